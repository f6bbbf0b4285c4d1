import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadDataset } from "../../src/data/index.js";
import { extractCode, parseStep, programForStep, sftPrompt } from "../../src/steps/index.js";
import { SPLITS, generateDataset, referenceTrajectory, planSolution, readQuestion, writeDataset, type DatasetOptions } from "../../src/synth/index.js";
import { openRunner } from "./runner.js";

const options: DatasetOptions = { seed: 2024, train: 60, test: 30, ood: 30, difficulty: 4 };
const dataset = generateDataset(options);
let runner: Awaited<ReturnType<typeof openRunner>>;

beforeAll(async () => {
    runner = await openRunner();
});
afterAll(async () => {
    await runner.close();
});

describe("reference solutions run in Python", () => {
    it.each(SPLITS)("print the answer for a sample of the %s split", async (split) => {
        const sample = dataset[split].filter((_, index) => index % 2 === 0);
        const results = await Promise.all(sample.map((problem) => runner.run(extractCode(problem.solution))));
        results.forEach((result, index) => {
            const problem = sample[index]!;
            expect(result, problem.id).toMatchObject({ ok: true, observation: problem.answer });
        });
    });

    it("run step by step as search runs them, every step without error, the last printing the answer", async () => {
        for (const problem of dataset.ood.slice(0, 6)) {
            const pieces = referenceTrajectory(planSolution(readQuestion(problem.question)!));
            const texts: string[] = [];
            for (const piece of pieces.slice(0, -1)) {
                const stepText = piece.split("\n<output>")[0]!;
                const stop = stepText.endsWith("<end_of_code>") ? "<end_of_code>" : "<end_of_step>";
                const step = parseStep({ text: stepText.slice(0, -stop.length), stop, finishReason: "stop" });
                expect(step.kind).toBe(stop === "<end_of_code>" ? "last-code" : "code");
                const result = await runner.run(programForStep(texts, step.text));
                expect(result.ok).toBe(true);
                if (step.kind === "last-code") expect(result.observation).toBe(problem.answer);
                texts.push(piece);
            }
            const answer = parseStep({ text: pieces.at(-1)!.replace("<end_of_answer>", ""), stop: "<end_of_answer>", finishReason: "stop" });
            expect(answer).toMatchObject({ kind: "answer", answer: problem.answer });
            expect(texts.join("") + pieces.at(-1)).toBe(problem.solution);
        }
    });
});

describe("writeDataset", () => {
    it("writes splits the dataset loader reads, the SFT file and a manifest; byte-identical for the same seed", async () => {
        const dir = await mkdtemp(join(tmpdir(), "rstar-synth-"));
        try {
            for (const format of ["json", "jsonl"] as const) {
                const written = await writeDataset(join(dir, format), dataset, options, format);
                for (const split of SPLITS) {
                    const loaded = await loadDataset(written.files[split]);
                    expect(loaded.map((p) => [p.question, p.answer])).toEqual(dataset[split].map((p) => [p.question, p.answer]));
                    expect(loaded[0]?.record).toMatchObject({ id: dataset[split][0]!.id, split, steps: dataset[split][0]!.steps });
                }
                const sft = (await readFile(written.files.sft, "utf8")).trim().split("\n").map((line) => JSON.parse(line) as { query: string; response: string });
                expect(sft).toHaveLength(dataset.train.length);
                expect(sft[0]).toEqual({ query: dataset.train[0]!.question, response: dataset.train[0]!.solution });
                expect(sftPrompt(sft[0]!.query) + sft[0]!.response).toContain("solve the problem with code.<code>\n# Step 1: ");
                const manifest = JSON.parse(await readFile(written.files.manifest, "utf8")) as { steps: Record<string, [number, number]> };
                expect(manifest.steps["ood"]![0]).toBeGreaterThan(manifest.steps["train"]![1]);
            }
            const again = await writeDataset(join(dir, "again"), generateDataset(options), options, "jsonl");
            for (const split of SPLITS) {
                expect(await readFile(again.files[split], "utf8")).toBe(await readFile(join(dir, "jsonl", `${split}.jsonl`), "utf8"));
            }
        } finally {
            await rm(dir, { recursive: true, force: true });
        }
    });
});
