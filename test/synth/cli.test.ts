import OpenAI from "openai";
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { register as registerSynth } from "../../src/cli/commands/synth.js";
import { register as registerTeacher } from "../../src/cli/commands/teacher.js";
import { firstLine, runInProcess, spawnRstar } from "../support/cli.js";

/** Runs the commands in process, as src/cli/main.ts wires them; returns stdout and the exit code. */
const cli = (args: string[]) => runInProcess([registerSynth, registerTeacher], args);

const dirs: string[] = [];
afterEach(async () => {
    await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

describe("rstar synth generate", () => {
    it("writes the splits, SFT data and manifest, byte-identical for the same seed", async () => {
        const dir = await mkdtemp(join(tmpdir(), "rstar-synth-cli-"));
        dirs.push(dir);
        const args = ["--seed", "9", "--train", "25", "--test", "10", "--ood", "10", "--difficulty", "2"];
        const first = await cli(["synth", "generate", "--out", join(dir, "a"), ...args]);
        expect(first.code).toBe(0);
        expect(JSON.parse(first.stdout)).toMatchObject({ counts: { train: 25, test: 10, ood: 10 } });
        expect((await cli(["synth", "generate", "--out", join(dir, "b"), ...args])).code).toBe(0);
        const files = (await readdir(join(dir, "a"))).sort();
        expect(files).toEqual(["manifest.json", "ood.jsonl", "sft-train.jsonl", "test.jsonl", "train.jsonl"]);
        for (const file of files) expect(await readFile(join(dir, "b", file), "utf8")).toBe(await readFile(join(dir, "a", file), "utf8"));
        const json = await cli(["synth", "generate", "--out", join(dir, "c"), ...args, "--format", "json", "--steps", "3-4", "--ood-steps", "9"]);
        expect(json.code).toBe(0);
        const ood = JSON.parse(await readFile(join(dir, "c", "ood.json"), "utf8")) as { steps: number }[];
        expect(ood.every((problem) => problem.steps === 9)).toBe(true);
        // --train-steps: train alone reaches the ood lengths; the manifest records each split's range
        const wide = await cli(["synth", "generate", "--out", join(dir, "d"), ...args, "--train-steps", "7-8"]);
        expect(wide.code).toBe(0);
        const manifest = JSON.parse(await readFile(join(dir, "d", "manifest.json"), "utf8")) as { steps: Record<string, [number, number]> };
        expect(manifest.steps).toMatchObject({ train: [7, 8], ood: [7, 8] });
        expect(manifest.steps["test"]?.[1]).toBeLessThanOrEqual(6);
    });

    it("rejects bad usage with exit code 2", async () => {
        expect((await cli(["synth", "generate", "--out", "x", "--difficulty", "7"])).code).toBe(2);
        expect((await cli(["synth", "generate", "--out", "x", "--format", "csv"])).code).toBe(2);
        expect((await cli(["synth", "generate", "--out", "x", "--train", "many"])).code).toBe(2);
        expect((await cli(["synth", "generate", "--out", "x", "--steps", "2-6", "--ood-steps", "6-8"])).code).toBe(2);
        expect((await cli(["synth", "generate", "--out", "x", "--train-steps", "1-3"])).code).toBe(2);
        expect((await cli(["synth", "generate"])).code).toBe(2);
    });

    it("misreads writes problem-disjoint train and held-out pairs, byte-identical for the same seed", async () => {
        const dir = await mkdtemp(join(tmpdir(), "rstar-synth-misreads-"));
        dirs.push(dir);
        expect((await cli(["synth", "generate", "--out", join(dir, "data"), "--seed", "4", "--train", "30", "--test", "0", "--ood", "0"])).code).toBe(0);
        const args = ["synth", "misreads", "--data", join(dir, "data", "train.jsonl"), "--held-out", "5", "--seed", "2"];
        const first = await cli([...args, "--out", join(dir, "a")]);
        expect(first.code).toBe(0);
        const { counts } = JSON.parse(first.stdout) as { counts: { skipped: number; train: { problems: number; steps: number; solutions: number }; heldOut: { problems: number; steps: number } } };
        expect(counts.skipped).toBe(0);
        expect(counts.heldOut.problems).toBe(5);
        expect(counts.train.problems).toBe(25);
        expect(counts.train.steps).toBeGreaterThan(25);
        expect((await cli([...args, "--out", join(dir, "b")])).code).toBe(0);
        const files = (await readdir(join(dir, "a"))).sort();
        expect(files).toEqual(["heldout-solutions.jsonl", "heldout-steps.jsonl", "manifest.json", "solutions.jsonl", "steps.jsonl"]);
        for (const file of files) expect(await readFile(join(dir, "b", file), "utf8")).toBe(await readFile(join(dir, "a", file), "utf8"));
        const steps = (await readFile(join(dir, "a", "steps.jsonl"), "utf8")).trim().split("\n");
        expect(steps).toHaveLength(counts.train.steps);
        expect(Object.keys(JSON.parse(steps[0]!) as object).sort()).toEqual(["neg", "neg_count", "pos", "pos_count", "prompt"]);
        // not synthetic problems, a bad record, a bad share
        expect((await cli(["synth", "misreads", "--data", join(dir, "data", "manifest.json"), "--out", join(dir, "c")])).code).toBe(2);
        expect((await cli([...args, "--out", join(dir, "c"), "--keep-comment", "1.5"])).code).toBe(2);
    });

    it.each([["synth", "generate"], ["synth", "misreads"], ["teacher", "serve"], ["teacher", "eval"]])("has --help (%s %s)", async (...command) => {
        const help = await cli([...command, "--help"]);
        expect(help.code).toBe(0);
        expect(help.stdout).toMatch(/Usage: rstar/);
        expect(help.stdout).toMatch(/Exit codes/);
    });
});

describe("rstar teacher", () => {
    it("eval measures greedy accuracy and pass@k on a dataset", async () => {
        const dir = await mkdtemp(join(tmpdir(), "rstar-teacher-cli-"));
        dirs.push(dir);
        await cli(["synth", "generate", "--out", dir, "--seed", "4", "--train", "0", "--test", "6", "--ood", "0"]);
        const result = await cli(["teacher", "eval", "--data", join(dir, "test.jsonl"), "--k", "4", "--json", "--error-scale", "0"]);
        expect(result.code).toBe(0);
        expect(JSON.parse(result.stdout)).toMatchObject({ problems: 6, greedyAccuracy: 1, passAtK: 1, k: 4 });
        expect((await cli(["teacher", "eval", "--data", join(dir, "test.jsonl"), "--wrong-number", "2"])).code).toBe(2);
    });

    it("serve listens on 127.0.0.1, prints its URL, answers, and stops on SIGTERM", async () => {
        const child = spawnRstar(["teacher", "serve", "--port", "0", "--wrong-number", "0.2"], "source");
        try {
            const baseURL = await firstLine(child);
            expect(baseURL).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
            const models = (await (await fetch(`${baseURL}/models`)).json()) as { data: { id: string }[] };
            expect(models.data[0]?.id).toBe("rstar-synth-teacher");
            // the one rstar serve server: chat and streaming work for the teacher too, and max_tokens defaults to 512
            const client = new OpenAI({ baseURL, apiKey: "unused", maxRetries: 0 });
            const question = "Maya has 12 apples. Maya buys 5 more apples. How many apples does Maya have now?";
            const reply = await client.chat.completions.create({ model: "rstar-synth-teacher", messages: [{ role: "user", content: question }], temperature: 0, stop: ["<end_of_step>"] });
            expect(reply.choices[0]?.message.content).toMatch(/^<code>\n# Step 1: /);
            expect(reply.choices[0]?.finish_reason).toBe("stop");
            const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
            child.kill("SIGTERM");
            expect(await exited).toBe(0);
        } finally {
            if (child.exitCode === null) child.kill("SIGKILL");
        }
    });
});
