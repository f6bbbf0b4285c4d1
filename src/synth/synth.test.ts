import { isDeepStrictEqual } from "node:util";
import { describe, expect, it } from "vitest";
import { bootstrapPrompt, sftPrompt } from "../steps/index.js";
import {
    createRandom,
    generateDataset,
    generateStory,
    planSolution,
    readPrompt,
    readQuestion,
    referenceSolution,
    storyText,
    type SynthDataset,
} from "./index.js";

const dataset: SynthDataset = generateDataset({ seed: 11, train: 300, test: 100, ood: 100 });
const all = [...dataset.train, ...dataset.test, ...dataset.ood];

describe("generateDataset", () => {
    it("is deterministic: the same options give byte-identical problems, another seed different ones", () => {
        const again = generateDataset({ seed: 11, train: 300, test: 100, ood: 100 });
        expect(JSON.stringify(again)).toBe(JSON.stringify(dataset));
        const other = generateDataset({ seed: 12, train: 20, test: 0, ood: 0 });
        expect(other.train.map((p) => p.question)).not.toEqual(dataset.train.slice(0, 20).map((p) => p.question));
    });

    it("keeps the first problems when more are asked for", () => {
        const small = generateDataset({ seed: 11, train: 30, test: 10, ood: 10 });
        expect(small.train).toEqual(dataset.train.slice(0, 30));
        expect(small.ood).toEqual(dataset.ood.slice(0, 10));
    });

    it("has integer answers and only positive integer intermediate values", () => {
        for (const problem of all) {
            expect(problem.answer).toMatch(/^[1-9]\d*$/);
            const story = readQuestion(problem.question);
            expect(story).not.toBeNull();
            const plan = planSolution(story!);
            expect(String(plan.answer)).toBe(problem.answer);
            for (const step of plan.steps) {
                expect(Number.isInteger(step.value)).toBe(true);
                expect(step.value).toBeGreaterThan(0);
            }
        }
    });

    it("puts 2-6 steps in train and test and 7-8 in ood, covering every length", () => {
        const lengths = (split: keyof SynthDataset) => new Set(dataset[split].map((p) => p.steps));
        expect([...lengths("train")].sort()).toEqual([2, 3, 4, 5, 6]);
        expect([...lengths("test")].every((s) => s >= 2 && s <= 6)).toBe(true);
        expect([...lengths("ood")].sort()).toEqual([7, 8]);
        for (const problem of all) expect(planSolution(readQuestion(problem.question)!).steps).toHaveLength(problem.steps);
    });

    it("gives train its own step range when asked (trainSteps), reaching into the ood lengths, while test, ood and every question stay apart", () => {
        const wide = generateDataset({ seed: 11, train: 300, test: 100, ood: 100, trainSteps: [2, 8] });
        expect([...new Set(wide.train.map((p) => p.steps))].sort()).toEqual([2, 3, 4, 5, 6, 7, 8]);
        expect(wide.test).toEqual(dataset.test);
        expect(wide.ood).toEqual(dataset.ood);
        const questions = [...wide.train, ...wide.test, ...wide.ood].map((p) => p.question);
        expect(new Set(questions).size).toBe(questions.length);
        for (const problem of wide.train) expect(planSolution(readQuestion(problem.question)!).steps).toHaveLength(problem.steps);
        expect(() => generateDataset({ seed: 11, train: 1, test: 0, ood: 0, trainSteps: [5, 3] })).toThrow(/train steps must be a range/);
    });

    it("never repeats a question, so train and test share none", () => {
        const questions = all.map((p) => p.question);
        expect(new Set(questions).size).toBe(questions.length);
        const train = new Set(dataset.train.map((p) => p.question));
        expect(dataset.test.filter((p) => train.has(p.question))).toEqual([]);
    });

    it("uses every question form, money stories, and distractors", () => {
        expect(new Set(all.map((p) => p.kind))).toEqual(new Set(["now", "worth", "more-than", "together", "each-box", "left-over", "money-left"]));
        expect(all.filter((p) => p.distractors > 0).length).toBeGreaterThan(all.length / 5);
        const noDistractors = generateDataset({ seed: 11, train: 100, test: 0, ood: 0, distractors: false });
        expect(noDistractors.train.every((p) => p.distractors === 0)).toBe(true);
    });

    it("makes numbers bigger and distractors commoner as difficulty rises", () => {
        const stats = (difficulty: number) => {
            const d = generateDataset({ seed: 5, train: 200, test: 0, ood: 0, difficulty });
            const numbers = d.train.flatMap((p) => (p.question.match(/\d+/g) ?? []).map(Number));
            return { mean: numbers.reduce((a, b) => a + b, 0) / numbers.length, distractors: d.train.filter((p) => p.distractors > 0).length, steps: d.train.reduce((a, p) => a + p.steps, 0) };
        };
        const easy = stats(1);
        const hard = stats(5);
        expect(hard.mean).toBeGreaterThan(easy.mean * 2);
        expect(hard.distractors).toBeGreaterThan(easy.distractors);
        expect(hard.steps).toBeGreaterThan(easy.steps);
    });

    it("rejects bad options", () => {
        expect(() => generateDataset({ seed: 1, train: 1, test: 1, ood: 1, difficulty: 9 })).toThrow(/difficulty/);
        expect(() => generateDataset({ seed: 1, train: -1, test: 1, ood: 1 })).toThrow(/train/);
        expect(() => generateDataset({ seed: 1, train: 1, test: 1, ood: 1, oodSteps: [5, 8] })).toThrow(/above/);
    });
});

describe("reading a question back", () => {
    it("recovers exactly the story the generator wrote, for every template and length", () => {
        for (let i = 0; i < 1500; i += 1) {
            const { story } = generateStory(createRandom(`round-trip|${i}`), { steps: 2 + (i % 9), difficulty: 1 + (i % 5) });
            const read = readQuestion(storyText(story));
            if (!isDeepStrictEqual(read, story)) expect(read).toEqual(story);
        }
    });

    it("returns null for text that is not a synthetic problem", () => {
        expect(readQuestion("What is the product of the roots of $2x^2 - 7x + 3 = 0$?")).toBeNull();
        expect(readQuestion("")).toBeNull();
    });
});

describe("reference solutions", () => {
    it("follow the step format: one computation per step, a print step, the output and a boxed answer", () => {
        for (const problem of all.slice(0, 200)) {
            const solution = problem.solution;
            expect(solution.startsWith("<code>\n# Step 1: ")).toBe(true);
            const steps = solution.split("<end_of_step>");
            expect(steps).toHaveLength(problem.steps + 1);
            steps.slice(0, -1).forEach((step, index) => {
                const lines = step.replace("<code>", "").split("\n").filter((line) => line !== "");
                expect(lines).toHaveLength(2);
                expect(lines[0]).toMatch(new RegExp(`^# Step ${index + 1}: \\S`));
                expect(lines[1]).toMatch(/^[a-z][a-z0-9_]* = [^=]+$/);
            });
            expect(steps.at(-1)).toBe(
                `\n# Now print the final answer\nprint(${/print\((\w+)\)/.exec(solution)?.[1]})\n<end_of_code>\n<output>${problem.answer}<end_of_output>\n<answer>${/<answer>(.*)<end_of_answer>$/.exec(solution)?.[1]}<end_of_answer>`,
            );
            expect(solution).toContain(`\\boxed{${problem.answer}}`);
            expect(referenceSolution(planSolution(readQuestion(problem.question)!))).toBe(solution);
        }
    });
});

describe("readPrompt", () => {
    it("takes SFT and bootstrap prompts apart", () => {
        const question = dataset.train[0]!.question;
        expect(readPrompt(sftPrompt(question))).toEqual({ question, partial: "", template: "sft" });
        expect(readPrompt(sftPrompt(question, "<code>\n# Step 1: x\n"))).toEqual({ question, partial: "<code>\n# Step 1: x\n", template: "sft" });
        expect(readPrompt(bootstrapPrompt(question))).toEqual({ question, partial: "", template: "bootstrap" });
        expect(readPrompt(bootstrapPrompt(question, "<code>\n# Step 1: x\n"))).toEqual({ question, partial: "<code>\n# Step 1: x\n", template: "bootstrap" });
        expect(readPrompt("Hello there")).toBeNull();
    });
});
