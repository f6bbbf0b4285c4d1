import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { extractPpm } from "../../src/data/index.js";
import { createGrader, type Grader } from "../../src/grading/index.js";
import { createSandbox, type Sandbox } from "../../src/sandbox/index.js";
import { BASE_SETTINGS, solveProblem, toOfficialStates } from "../../src/search/index.js";
import { TeacherBackend, generateDataset } from "../../src/synth/index.js";
import { findTrainingPython, makeTestModel, trainPpm, type TrainEvent } from "../../src/train/index.js";

/**
 * Issue 4's end-to-end check: a real search (the noisy teacher as the policy, real sandbox and grader) writes trees,
 * `extractPpm` turns them into step pairs, and a tiny PPM trained for a few steps on those pairs ranks held-out pairs
 * better than chance.
 */
const hasTorch = (() => {
    try {
        findTrainingPython();
        return true;
    } catch {
        return false;
    }
})();

describe.skipIf(!hasTorch)("PPM trained on pairs extracted from a real search", () => {
    const dir = mkdtempSync(join(tmpdir(), "rstar-ppm-real-"));
    let sandbox: Sandbox;
    let grader: Grader;
    beforeAll(async () => {
        sandbox = await createSandbox({ workers: 2 });
        grader = createGrader();
    });
    afterAll(async () => {
        await sandbox?.dispose();
        await grader?.dispose();
    });

    it("searches, extracts pairs and trains a PPM whose held-out pairwise accuracy rises above chance", async () => {
        const problems = generateDataset({ seed: 11, train: 40, test: 0, ood: 0 }).train;
        const settings = { ...BASE_SETTINGS, prompt: "bootstrap" as const, rollouts: 6, candidates: 6, temperature: 0.7, errorThreshold: 2, seed: 3 };
        const teacher = new TeacherBackend();
        const lines: string[] = [];
        for (const [index, problem] of problems.entries()) {
            const outcome = await solveProblem({ index, question: problem.question, gold: String(problem.answer) }, settings, { policy: teacher, executor: sandbox, judge: grader });
            lines.push(JSON.stringify({ question: problem.question, answer: String(problem.answer), rstar: toOfficialStates(outcome.root, problem.question) }));
        }
        const trees = join(dir, "trees.jsonl");
        writeFileSync(trees, lines.join("\n") + "\n");

        const pairs: object[] = [];
        const summary = await extractPpm({ files: [trees], format: "official", write: (record) => void pairs.push(record), labelling: "q", minMargin: 0.5, minEditDistance: 5 });
        expect(summary.problems).toBe(40);
        expect(pairs.length).toBeGreaterThanOrEqual(40);
        const pairsFile = join(dir, "pairs.jsonl");
        writeFileSync(pairsFile, pairs.map((pair) => JSON.stringify(pair)).join("\n") + "\n");

        const base = join(dir, "base");
        await makeTestModel({ out: base, steps: 40, seed: 0 });
        const evals: TrainEvent[] = [];
        const result = await trainPpm(
            { pairs: pairsFile, base, out: join(dir, "ppm"), epochs: 3, batch: 8, lr: 3e-3, warmup: 2, testFraction: 0.25, seed: 0, f32: true },
            { onEvent: (event) => event.event === "eval" && evals.push(event) },
        );
        const accuracy = result.metrics["accuracy"] as number;
        expect(accuracy).toBeGreaterThan(0.5);
        expect(accuracy).toBeGreaterThan(evals[0]!.accuracy as number);
    }, 600_000);
});
