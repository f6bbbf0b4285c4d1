import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { extractCode } from "../../src/steps/index.js";
import { generateDataset, misreadDataset, misreadPairs } from "../../src/synth/index.js";
import { openRunner } from "./runner.js";

const dataset = generateDataset({ seed: 77, train: 40, test: 0, ood: 0, difficulty: 3 });
const problems = dataset.train.map((problem) => ({ question: problem.question, answer: problem.answer }));
let runner: Awaited<ReturnType<typeof openRunner>>;

beforeAll(async () => {
    runner = await openRunner();
});
afterAll(async () => {
    await runner.close();
});

const numbers = (text: string): number[] => (text.match(/\d+/g) ?? []).map(Number);
const codeLine = (step: string): string => step.split("\n").filter((line) => line.trim() !== "" && !line.startsWith("#") && !line.includes("<"))[0] ?? "";
const boxed = (text: string): string | undefined => /\\boxed\{([^}]*)\}/.exec(text)?.[1];

describe("misread pairs", () => {
    it("misread one question number, in the code and the comment, as a number the question does not hold", () => {
        let pairs = 0;
        for (const problem of problems) {
            const question = new Set(numbers(problem.question));
            for (const pair of misreadPairs(problem.question, problem.answer, { seed: 1, keepComment: 0 }).steps) {
                pairs += 1;
                const pos = numbers(codeLine(pair.pos));
                const neg = numbers(codeLine(pair.neg));
                expect(neg.length, pair.neg).toBe(pos.length);
                const changed = pos.map((value, i) => [value, neg[i] as number] as const).filter(([a, b]) => a !== b);
                expect(changed, `${pair.pos}\n${pair.neg}`).toHaveLength(1);
                const [right, misread] = changed[0]!;
                expect(question.has(right)).toBe(true);
                expect(question.has(misread)).toBe(false);
                // the comment restates the misread number (keepComment 0), never the right one in its place
                const negComment = numbers(pair.neg.split("\n").find((line) => line.startsWith("# Step"))!.replace(/^# Step \d+:/, ""));
                if (negComment.includes(right) || negComment.includes(misread)) {
                    expect(negComment).toContain(misread);
                    expect(negComment).not.toContain(right);
                }
                expect(pair.prompt.startsWith("<|user|>:\n" + problem.question)).toBe(true);
            }
        }
        expect(pairs).toBeGreaterThan(problems.length);
    });

    it("make whole-solution pairs whose code really prints each side's boxed answer", async () => {
        const solutions = problems.flatMap((problem) => misreadPairs(problem.question, problem.answer, { seed: 1 }).solutions.map((pair) => ({ pair, answer: problem.answer })));
        expect(solutions.length).toBeGreaterThan(problems.length / 2);
        for (const { pair, answer } of solutions.slice(0, 12)) {
            const pos = await runner.run(extractCode(pair.pos));
            const neg = await runner.run(extractCode(pair.neg));
            expect(pos).toMatchObject({ ok: true, observation: answer });
            expect(boxed(pair.pos)).toBe(answer);
            expect(neg.ok).toBe(true);
            expect(neg.observation).not.toBe(answer);
            expect(boxed(pair.neg)).toBe(neg.observation);
            expect(pair.neg).toContain(`<output>${neg.observation}<end_of_output>`);
        }
    });

    it("are the same for the same seed, different for another", () => {
        const [problem] = problems;
        const once = misreadPairs(problem!.question, problem!.answer, { seed: 3 });
        expect(misreadPairs(problem!.question, problem!.answer, { seed: 3 })).toEqual(once);
        const others = problems.slice(0, 10).map((p) => JSON.stringify(misreadPairs(p.question, p.answer, { seed: 4 })));
        expect(others).not.toEqual(problems.slice(0, 10).map((p) => JSON.stringify(misreadPairs(p.question, p.answer, { seed: 3 }))));
    });

    it("skip questions the domain cannot read and answers that are not the reference's", () => {
        expect(misreadPairs("What is 2 + 2?", "4", { seed: 1 })).toEqual({ steps: [], solutions: [] });
        const [problem] = problems;
        expect(misreadPairs(problem!.question, String(Number(problem!.answer) + 1), { seed: 1 }).steps).toEqual([]);
    });

    it("keep the held-out problems' pairs apart from training", () => {
        const made = misreadDataset([...problems, { question: "What is 2 + 2?", answer: "4" }], { seed: 1, heldOut: 8 });
        expect(made.heldOut.problems).toBe(8);
        expect(made.train.problems).toBe(problems.length - 8);
        expect(made.skipped).toBe(1);
        const questionOf = (prompt: string) => prompt.split("\n")[1];
        const heldOut = new Set([...made.heldOut.steps, ...made.heldOut.solutions].map((pair) => questionOf(pair.prompt)));
        expect(heldOut.size).toBe(8);
        for (const pair of [...made.train.steps, ...made.train.solutions]) expect(heldOut.has(questionOf(pair.prompt))).toBe(false);
    });
});
