import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { exportModels } from "./export-models.js";

const dir = mkdtempSync(join(tmpdir(), "rstar-export-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A finished two-round run's files (contents stand in for the real checkpoints). */
function fakeRun(name: string, options: { round2Ppm?: string | null; data?: unknown } = {}): string {
    const run = join(dir, name);
    const write = (path: string, text: string) => {
        mkdirSync(join(run, path, ".."), { recursive: true });
        writeFileSync(join(run, path), text);
    };
    write("config.json", JSON.stringify({ seed: 5, data: options.data ?? { synth: { train: 4, test: 2, ood: 2 } } }));
    write("report.json", JSON.stringify({ rounds: [{ round: 1, secondsTotal: 60 }, { round: 2, secondsTotal: 120 }], table: [{ round: 1, "test-greedy": 0.5 }, { round: 2, "test-greedy": 0.6 }] }));
    write("data/test.jsonl", "test\n");
    write("data/ood.jsonl", "ood\n");
    for (const n of [1, 2]) {
        write(`round-${n}/policy/model.gguf`, `policy ${n}`);
        write(`round-${n}/policy/tokenizer.json`, "{}");
        for (const file of ["model.gguf", "value_head.safetensors", "value_head.json"]) write(`round-${n}/ppm/${file}`, `ppm ${n} ${file}`);
    }
    const ppm2 = options.round2Ppm === undefined ? "round-2/ppm" : options.round2Ppm;
    for (const n of [1, 2]) {
        write(`round-${n}/state.json`, JSON.stringify({ format: "rstar-evolve-state/1", round: n, order: [], stages: {}, artifacts: { policy: `round-${n}/policy`, ppm: n === 2 ? ppm2 : "round-1/ppm" } }));
    }
    return run;
}

describe("exportModels", () => {
    it("ships the last round's policy and PPM (or the earlier PPM it kept), the held-out splits and a manifest with the table", () => {
        const run = fakeRun("kept", { round2Ppm: "round-1/ppm" });
        const out = join(dir, "models-a");
        mkdirSync(out);
        writeFileSync(join(out, "stale.txt"), "old");
        const result = exportModels({ run, out, builtBy: "rstar evolve --preset synthetic" });
        expect(result.round).toBe(2);
        expect(readFileSync(join(out, "policy", "model.gguf"), "utf8")).toBe("policy 2");
        expect(readFileSync(join(out, "ppm", "model.gguf"), "utf8")).toBe("ppm 1 model.gguf");
        expect(readFileSync(join(out, "heldout", "ood.jsonl"), "utf8")).toBe("ood\n");
        expect(() => readFileSync(join(out, "stale.txt"))).toThrow();
        const manifest = JSON.parse(readFileSync(join(out, "manifest.json"), "utf8")) as Record<string, unknown>;
        expect(manifest).toMatchObject({ format: "rstar-models/2", seed: 5, round: 2, rounds: 2, secondsTotal: 180, policy: { from: "round-2/policy" }, ppm: { from: "round-1/ppm" } });
        expect(manifest["table"]).toEqual([{ round: 1, "test-greedy": 0.5 }, { round: 2, "test-greedy": 0.6 }]);
    });

    it("refuses a round without a report, a round without a PPM, a run without synthetic splits, and a missing checkpoint, leaving the old models", () => {
        const out = join(dir, "models-b");
        mkdirSync(out);
        writeFileSync(join(out, "keep.txt"), "mine");
        expect(() => exportModels({ run: fakeRun("r3"), out, round: 3, builtBy: "x" })).toThrow(/round 3 has not finished/);
        expect(() => exportModels({ run: fakeRun("noppm", { round2Ppm: null }), out, builtBy: "x" })).toThrow(/round 2 has no PPM/);
        expect(() => exportModels({ run: fakeRun("files", { data: { train: "t.jsonl" } }), out, builtBy: "x" })).toThrow(/field "data"/);
        const broken = fakeRun("broken");
        rmSync(join(broken, "round-2", "ppm", "value_head.json"));
        expect(() => exportModels({ run: broken, out, builtBy: "x" })).toThrow(/missing .*value_head\.json/);
        expect(() => exportModels({ run: join(dir, "nothing"), out, builtBy: "x" })).toThrow(/not a finished rstar evolve run/);
        expect(readFileSync(join(out, "keep.txt"), "utf8")).toBe("mine");
    });
});
