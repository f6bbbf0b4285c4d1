import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LlamaCppPpm } from "../../src/reward/index.js";
import { sftPrompt } from "../../src/steps/index.js";
import { generateDataset } from "../../src/synth/index.js";
import { evalPpm, type HeldoutReport } from "../../src/train/index.js";
import { trainingPython } from "./support.js";

/**
 * `rstar train eval-ppm` (issue 8 item 2): scores held-out pairs with a trained PPM directory — the shipped one here —
 * and reports accuracy by kind; its scores are the ones llama.cpp gives search for the same texts.
 */
const python = trainingPython();
const shippedPpm = new URL("../../models/ppm", import.meta.url).pathname;
const cliPath = new URL("../../dist/cli/main.js", import.meta.url).pathname;

/** Pairs of each kind built from reference solutions of fresh synthetic problems (the step format search writes). */
function pairs(count: number) {
    const records: { prompt: string; pos: string; neg: string; pos_count: number; neg_count: number }[] = [];
    for (const problem of generateDataset({ seed: 9090, train: count, test: 0, ood: 0 }).train) {
        const steps = problem.solution.split(/(?<=<end_of_step>\n)/);
        const pos = steps[1]!;
        const variable = /^([a-z_0-9]+) = /m.exec(steps[0]!)![1]!;
        const prompt = sftPrompt(problem.question, steps[0]!);
        // code vs code: the same step with an operand that nothing defined
        records.push({ prompt, pos, neg: pos.replace(/^([a-z_0-9]+) = .*$/m, "$1 = undefined_total * 2"), pos_count: 1, neg_count: 1 });
        // code vs premature answer: printing after the first step
        records.push({ prompt, pos, neg: `# Now print the final answer\nprint(${variable})\n<end_of_code>\n<output>7<end_of_output>\n`, pos_count: 1, neg_count: 1 });
        // correct vs wrong final answer: whole trajectories
        const wrong = problem.solution.replace(`\\boxed{${problem.answer}}`, `\\boxed{${Number(problem.answer) + 3}}`);
        records.push({ prompt: sftPrompt(problem.question), pos: problem.solution, neg: wrong, pos_count: 1, neg_count: 1 });
    }
    return records;
}

describe.skipIf(python === null)("rstar train eval-ppm", () => {
    const dir = mkdtempSync(join(tmpdir(), "rstar-eval-ppm-"));

    it("reports accuracy overall and by kind with sample sizes and intervals, and matches llama.cpp's scores", async () => {
        const records = pairs(4);
        const file = join(dir, "pairs.jsonl");
        writeFileSync(file, records.map((r) => JSON.stringify(r)).join("\n") + "\n");
        const result = await evalPpm({ ppm: shippedPpm, pairs: file, trainPairs: file, out: join(dir, "metrics.json"), scores: join(dir, "scores.jsonl") });
        const heldout = result.metrics["heldout"] as HeldoutReport;
        expect([heldout.pairs, heldout.problems]).toEqual([12, 4]);
        for (const kind of ["code_vs_code", "code_vs_answer", "final_answer"] as const) expect([heldout.by_kind[kind].pairs, heldout.by_kind[kind].problems]).toEqual([4, 4]);
        expect(heldout.wilson95![0]).toBeLessThanOrEqual(heldout.accuracy!);
        expect(result.metrics["test_problems_in_training"]).toBe(4); // --train-pairs is the same file: every problem seen
        expect(JSON.parse(readFileSync(join(dir, "metrics.json"), "utf8"))).toEqual(result.metrics);

        const scores = readFileSync(join(dir, "scores.jsonl"), "utf8").trim().split("\n").map((line) => JSON.parse(line) as { pos_score: number; neg_score: number; kind: string });
        expect(scores.map((s) => s.kind)).toEqual(records.map((_, i) => ["code_vs_code", "code_vs_answer", "final_answer"][i % 3]));
        expect(scores.filter((s) => s.pos_score > s.neg_score).length).toBe(heldout.correct);
        const ppm = await LlamaCppPpm.fromDirectory(shippedPpm, { threads: 1, formatInput: (item) => item.partialSolution });
        try {
            const llama = await ppm.score(records.flatMap((r) => [r.prompt + r.pos, r.prompt + r.neg]).map((text) => ({ question: "", partialSolution: text })));
            scores.forEach((s, i) => {
                expect(Math.abs(s.pos_score - llama[2 * i]!)).toBeLessThan(1e-2);
                expect(Math.abs(s.neg_score - llama[2 * i + 1]!)).toBeLessThan(1e-2);
            });
        } finally {
            await ppm.dispose();
        }
    }, 300_000);

    it("prints the report by kind and exits 0; exits 2 for a directory without a value head", () => {
        const file = join(dir, "one.jsonl");
        writeFileSync(file, pairs(1).map((r) => JSON.stringify(r)).join("\n") + "\n");
        const run = spawnSync(process.execPath, [cliPath, "train", "eval-ppm", "--ppm", shippedPpm, "--pairs", file, "--json"], { encoding: "utf8", timeout: 240_000 });
        expect(run.status).toBe(0);
        expect(run.stderr).toContain("held-out pairwise accuracy");
        expect(run.stderr).toContain("correct vs wrong final answer");
        expect((JSON.parse(run.stdout) as { metrics: { heldout: HeldoutReport } }).metrics.heldout.pairs).toBe(3);
        const bad = spawnSync(process.execPath, [cliPath, "train", "eval-ppm", "--ppm", dir, "--pairs", file], { encoding: "utf8", timeout: 60_000 });
        expect(bad.status).toBe(2);
        expect(bad.stderr).toContain("value_head.safetensors");
    }, 300_000);
});
