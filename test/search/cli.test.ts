import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import Database from "better-sqlite3";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runRstar } from "../support/cli.js";
import { startSimulatedPolicyServer, type SimulatedPolicyServer } from "../support/simulated-policy.js";

let server: SimulatedPolicyServer;
const dir = mkdtempSync(join(tmpdir(), "rstar-cli-"));

beforeAll(async () => {
    server = await startSimulatedPolicyServer({ stepCorrectProbability: 0.7, codeErrorProbability: 0.1 });
});
afterAll(async () => server?.close());

const rstar = (args: string[]) => runRstar(args);

describe("rstar solve and search settings", () => {
    it("solve prints the chosen trajectory and answer, and --json gives the details", async () => {
        // The simulated policy writes one step per request, so greedy needs the step stops (a real model writes the
        // whole code block up to <end_of_code>, as the official greedy config expects).
        const stepwise = ["--stop", "<end_of_step>", "<end_of_code>", "<end_of_answer>", "--max-depth", "16"];
        const plain = await rstar(["solve", "Compute 6 * 7 - 2.", "--policy-url", server.baseURL, "--model", server.model, "--answer", "40", ...stepwise]);
        expect(plain.code).toBe(0);
        expect(plain.stdout).toContain("<code>");
        expect(plain.stdout).toMatch(/answer: 40 \(correct\)/);
        const json = await rstar(["solve", "Compute 6 * 7 - 2.", "--policy-url", server.baseURL, "--model", server.model, "--preset", "bootstrap", "--prompt", "sft", "--rollouts", "2", "--candidates", "3", "--json"]);
        expect(json.code).toBe(0);
        const result = JSON.parse(json.stdout) as { answer: string; trajectory: string; counters: { rollouts: number }; terminalAnswers: unknown[] };
        expect(result.trajectory).toContain("\\boxed{");
        expect(result.counters.rollouts).toBeLessThanOrEqual(2);
        expect(result.terminalAnswers.length).toBeGreaterThan(0);
    }, 60_000);

    it("lists presets with provenance, and resolves preset, then config file, then flags", async () => {
        const presets = await rstar(["search", "--list-presets", "--json"]);
        expect(presets.code).toBe(0);
        const parsed = JSON.parse(presets.stdout) as Record<string, { provenance: string; settings: { rollouts: number } }>;
        expect(Object.keys(parsed)).toEqual(["bootstrap", "sample", "eval-mcts", "eval-beam", "best-of-n", "greedy"]);
        expect(parsed["bootstrap"]?.settings.rollouts).toBe(8);
        expect(parsed["eval-mcts"]?.provenance).toContain("sft_eval_mcts.yaml");

        const dataset = join(dir, "one.jsonl");
        writeFileSync(dataset, JSON.stringify({ question: "Compute 2 + 3.", answer: "5" }) + "\n");
        const config = join(dir, "settings.json");
        writeFileSync(config, JSON.stringify({ rollouts: 3, candidates: 2, prompt: "sft" }));
        const out = join(dir, "run");
        const run = await rstar(["search", "--dataset", dataset, "--out", out, "--policy-url", server.baseURL, "--model", server.model, "--config", config, "--candidates", "4", "--json", "--quiet"]);
        expect(run.code).toBe(0);
        const { readFileSync } = await import("node:fs");
        const stored = JSON.parse(readFileSync(join(out, "config.json"), "utf8")) as { settings: { rollouts: number; candidates: number; prompt: string; temperature: number } };
        expect(stored.settings).toMatchObject({ rollouts: 3, candidates: 4, prompt: "sft", temperature: 0.7 });
        expect(JSON.parse(run.stdout)).toMatchObject({ total: 1, finished: 1 });

        const badConfig = join(dir, "bad.json");
        writeFileSync(badConfig, JSON.stringify({ rollouts: -1 }));
        const bad = await rstar(["search", "--dataset", dataset, "--out", join(dir, "run2"), "--policy-url", server.baseURL, "--model", server.model, "--config", badConfig]);
        expect(bad.code).toBe(2);
        expect(bad.stderr).toContain(`${badConfig}, field "rollouts"`);

        const badRow = join(dir, "bad.jsonl");
        writeFileSync(badRow, '{"question":"ok","answer":"1"}\n{"answer":"2"}\n');
        const rowError = await rstar(["search", "--dataset", badRow, "--out", join(dir, "run3"), "--policy-url", server.baseURL, "--model", server.model]);
        expect(rowError.code).toBe(2);
        expect(rowError.stderr).toContain(`${badRow}:2, field "question"`);
    }, 60_000);
});

describe("rstar search summary: what the numbers measure", () => {
    const common = () => ["--policy-url", server.baseURL, "--model", server.model, "--prompt", "sft", "--rollouts", "3", "--candidates", "2", "--quiet"];
    const arithmetic = () => {
        const dataset = join(dir, "three.jsonl");
        writeFileSync(dataset, ["Compute 2 + 3.", "Compute 4 * 5.", "Compute 9 - 7."].map((question, index) => JSON.stringify({ question, answer: ["5", "20", "2"][index] })).join("\n") + "\n");
        return dataset;
    };
    const results = (out: string) => readFileSync(join(out, "results.jsonl"), "utf8").trim().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);

    it("under ground-truth reward prints 'solved (any rollout correct)', no accuracy, and says so in --json and results.jsonl", async () => {
        const dataset = arithmetic();
        const out = join(dir, "gold-text");
        const text = await rstar(["search", "--dataset", dataset, "--out", out, ...common()]);
        expect(text.code).toBe(0);
        expect(text.stdout).toMatch(/^solved {5}\d+\.\d% \(any rollout correct\)$/m);
        expect(text.stdout).toMatch(/^accuracy {3}not reported: answers were selected by their reward from the gold answer/m);
        expect(text.stdout).not.toContain("(selected answer)");
        const records = results(out);
        expect(records).toHaveLength(3);
        for (const record of records) {
            expect(record["selection_saw_gold"]).toBe(true);
            expect(record["correct"]).toBe(record["pass_any"]);
        }

        const json = await rstar(["search", "--dataset", dataset, "--out", join(dir, "gold-json"), ...common(), "--json"]);
        expect(json.code).toBe(0);
        const summary = JSON.parse(json.stdout) as { accuracy: number | null; passAny: number; selectionSawGold: boolean };
        expect(summary.accuracy).toBeNull();
        expect(summary.selectionSawGold).toBe(true);
        const solved = records.filter((record) => record["pass_any"] === true).length / records.length;
        expect(summary.passAny).toBeCloseTo(solved, 12);

        const solve = await rstar(["solve", "Compute 2 + 3.", "--answer", "5", "--preset", "bootstrap", ...common().filter((flag) => flag !== "--quiet"), "--json"]);
        expect(JSON.parse(solve.stdout)).toMatchObject({ selectionSawGold: true });
    }, 90_000);

    it("reports accuracy where selection did not see the gold answer (terminal reward none)", async () => {
        const dataset = arithmetic();
        const out = join(dir, "blind");
        const json = await rstar(["search", "--dataset", dataset, "--out", out, ...common(), "--terminal-reward", "none", "--json"]);
        expect(json.code).toBe(0);
        const summary = JSON.parse(json.stdout) as { accuracy: number | null; passAny: number; selectionSawGold: boolean };
        const records = results(out);
        expect(records.every((record) => record["selection_saw_gold"] === false)).toBe(true);
        expect(summary.selectionSawGold).toBe(false);
        expect(summary.accuracy).toBeCloseTo(records.filter((record) => record["correct"] === true).length / 3, 12);
        const text = await rstar(["search", "--dataset", dataset, "--out", out, ...common(), "--terminal-reward", "none", "--resume"]);
        expect(text.code).toBe(0);
        expect(text.stdout).toMatch(/^accuracy {3}\d+\.\d% \(selected answer\)$/m);
        expect(text.stdout).toMatch(/^solved {5}\d+\.\d% \(any rollout correct\)$/m);
    }, 90_000);

    it("reads records written before selection_saw_gold existed by the run's terminal reward", async () => {
        const dataset = arithmetic();
        const out = join(dir, "old-records");
        expect((await rstar(["search", "--dataset", dataset, "--out", out, ...common()])).code).toBe(0);
        const db = new Database(join(out, "store.sqlite"));
        for (const row of db.prepare("SELECT position, result FROM problems").all() as { position: number; result: string }[]) {
            const result = JSON.parse(row.result) as Record<string, unknown>;
            delete result["selection_saw_gold"];
            db.prepare("UPDATE problems SET result = ? WHERE position = ?").run(JSON.stringify(result), row.position);
        }
        db.close();
        const resumed = await rstar(["search", "--dataset", dataset, "--out", out, ...common(), "--resume", "--json"]);
        expect(resumed.code).toBe(0);
        expect(JSON.parse(resumed.stdout)).toMatchObject({ accuracy: null, selectionSawGold: true, finished: 3, resumed: 3 });
        expect(results(out).every((record) => !("selection_saw_gold" in record))).toBe(true);
    }, 90_000);
});
