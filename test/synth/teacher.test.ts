import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bootstrapPrompt, extractCode, sftPrompt } from "../../src/steps/index.js";
import {
    TEACHER_ERROR_KINDS,
    TeacherBackend,
    generateDataset,
    measurePolicy,
    planSolution,
    proposeStep,
    readQuestion,
    referenceTrajectory,
    resolveErrorRates,
    rollout,
    type TeacherErrorKind,
} from "../../src/synth/index.js";
import { openRunner } from "./runner.js";

const dataset = generateDataset({ seed: 77, train: 40, test: 0, ood: 40 });
const perfectRates = Object.fromEntries(TEACHER_ERROR_KINDS.map((kind) => [kind, 0])) as Record<TeacherErrorKind, number>;
let runner: Awaited<ReturnType<typeof openRunner>>;

beforeAll(async () => {
    runner = await openRunner();
});
afterAll(async () => {
    await runner.close();
});

describe("the teacher without mistakes", () => {
    it.each(["sft", "bootstrap"] as const)("writes exactly the reference solution, step by step, from the %s prompt", async (template) => {
        const teacher = new TeacherBackend({ errorRates: perfectRates });
        for (const problem of [...dataset.train.slice(0, 8), ...dataset.ood.slice(0, 4)]) {
            const greedy = await rollout(teacher, runner, problem.question, { template, temperature: 0 });
            expect(greedy).toMatchObject({ outcome: "answer", answer: problem.answer, trajectory: problem.solution });
            // sampling varies the wording of the comments, never the code
            const sampled = await rollout(teacher, runner, problem.question, { template, temperature: 1, seed: 5 });
            expect(sampled).toMatchObject({ outcome: "answer", answer: problem.answer });
            const code = (text: string) => extractCode(text).split("\n").filter((line) => !line.startsWith("#"));
            expect(code(sampled.trajectory)).toEqual(code(problem.solution));
        }
    });

    it("says where it is in a partial solution it did not write itself and ends with end-of-sequence after the answer", () => {
        const problem = dataset.ood[0]!;
        const pieces = referenceTrajectory(planSolution(readQuestion(problem.question)!));
        const sample = { seed: 1, index: 0, temperature: 0 };
        pieces.forEach((piece, index) => {
            const step = proposeStep(sftPrompt(problem.question, pieces.slice(0, index).join("")), sample, resolveErrorRates(perfectRates));
            expect(step.text).toBe(piece.split("\n<output>")[0]);
        });
        expect(proposeStep(sftPrompt(problem.question, pieces.join("")), sample, resolveErrorRates(perfectRates))).toMatchObject({ text: "", position: "done" });
        expect(proposeStep("not an rStar prompt", sample, resolveErrorRates(perfectRates)).position).toBe("unreadable");
    });
});

describe("the noisy teacher", () => {
    it("misreads numbers: a wrong number in the code is the number its comment restates", () => {
        const rates = resolveErrorRates({ ...perfectRates, wrongNumber: 1 });
        const words = (text: string) => new Set(text.match(/\d+/g) ?? []);
        let checked = 0;
        for (const problem of dataset.train.slice(0, 20)) {
            const first = referenceTrajectory(planSolution(readQuestion(problem.question)!))[0]!;
            const [refComment, refCode] = first.split("\n").filter((line) => line.startsWith("#") || line.includes(" = "));
            // only steps whose reference comment restates every number its code uses
            if ([...words(refCode!)].some((n) => !words(refComment!).has(n))) continue;
            for (let index = 0; index < 4; index += 1) {
                const step = proposeStep(sftPrompt(problem.question), { seed: 3, index, temperature: 1 }, rates);
                if (step.error !== "wrongNumber") continue;
                const [comment, code] = step.text.split("\n").filter((line) => line.startsWith("#") || line.includes(" = "));
                expect(code).not.toBe(refCode);
                for (const n of words(code!)) if (n !== "100") expect(words(comment!), `${step.text}`).toContain(n);
                checked += 1;
            }
        }
        expect(checked).toBeGreaterThan(20);
    });

    it("misreads a number as the tiny policies do: mostly another number altogether, sometimes off by 1 or 2", () => {
        const rates = resolveErrorRates({ ...perfectRates, wrongNumber: 1 });
        const numbers = (line: string) => (line.split(" = ")[1]?.match(/\d+/g) ?? []).map(Number);
        const deltas: number[] = [];
        for (const problem of dataset.train.slice(0, 40)) {
            const refCode = referenceTrajectory(planSolution(readQuestion(problem.question)!))[0]!.split("\n").find((line) => line.includes(" = "))!;
            for (let index = 0; index < 4; index += 1) {
                const step = proposeStep(sftPrompt(problem.question), { seed: 5, index, temperature: 1 }, rates);
                if (step.error !== "wrongNumber") continue;
                const code = step.text.split("\n").find((line) => line.includes(" = "))!;
                const [before, after] = [numbers(refCode), numbers(code)];
                if (before.length !== after.length) continue;
                before.forEach((n, i) => {
                    if (after[i] !== n) deltas.push(Math.abs((after[i] as number) - n));
                });
            }
        }
        expect(deltas.length).toBeGreaterThan(60);
        const nudges = deltas.filter((d) => d <= 2 || d === 10).length;
        // the policies' own: ~30% nudges, ~70% other numbers (the old teacher: 100% nudges)
        expect(nudges / deltas.length).toBeGreaterThan(0.1);
        expect(nudges / deltas.length).toBeLessThan(0.55);
    });

    it("is deterministic given (seed, prompt, sample index); greedy ignores the seed", async () => {
        const teacher = new TeacherBackend({ errorRates: { wrongNumber: 0.3, codeError: 0.2 } });
        const prompt = bootstrapPrompt(dataset.ood[1]!.question, dataset.ood[1]!.solution.split("<end_of_step>")[0] + "<end_of_step>");
        const request = { prompt, n: 8, temperature: 1, topP: 1, maxTokens: 200, stop: ["<end_of_step>", "<end_of_code>", "<end_of_answer>"] };
        const a = await teacher.generate({ ...request, seed: 3 });
        const b = await teacher.generate({ ...request, seed: 3 });
        const c = await teacher.generate({ ...request, seed: 4 });
        expect(b).toEqual(a);
        expect(c.completions.map((x) => x.text)).not.toEqual(a.completions.map((x) => x.text));
        expect(new Set(a.completions.map((x) => x.text)).size).toBeGreaterThan(1);
        const greedy1 = await teacher.generate({ ...request, temperature: 0, seed: 1 });
        const greedy2 = await teacher.generate({ ...request, temperature: 0, seed: 2 });
        expect(greedy2.completions).toEqual(greedy1.completions);
    });

    it("makes each kind of mistake at roughly its configured rate", () => {
        const rates = resolveErrorRates({ wrongNumber: 0.1, wrongOperator: 0.08, codeError: 0.06, skipFact: 0.05, distractor: 0.07, prematureAnswer: 0.04, repeatFact: 0.05 });
        const counts: Record<string, number> = {};
        let total = 0;
        const pool = generateDataset({ seed: 3, train: 200, test: 0, ood: 0, difficulty: 5 }).train;
        for (const problem of pool) {
            const plan = planSolution(readQuestion(problem.question)!);
            if (plan.distractorNumbers.length === 0) continue;
            const pieces = referenceTrajectory(plan);
            // positions where every kind of mistake is possible: past the first step, inside a fact, with a number to change,
            // right after another fact ends (so that there is one to repeat)
            plan.steps.forEach((step, position) => {
                const numbers = (step.expression.left.kind === "literal" ? 1 : 0) + (step.expression.right.kind === "literal" && step.expression.right.value !== 100 ? 1 : 0);
                const previousFact = plan.steps[position - 1]?.fact ?? -1;
                if (position === 0 || step.fact < 0 || numbers === 0 || previousFact < 0 || previousFact === step.fact) return;
                const prompt = sftPrompt(problem.question, pieces.slice(0, position).join(""));
                for (let index = 0; index < 40; index += 1) {
                    const proposed = proposeStep(prompt, { seed: 9, index, temperature: 1 }, rates);
                    counts[proposed.error ?? "none"] = (counts[proposed.error ?? "none"] ?? 0) + 1;
                    total += 1;
                }
            });
        }
        expect(total).toBeGreaterThan(3000);
        for (const kind of TEACHER_ERROR_KINDS) {
            const observed = (counts[kind] ?? 0) / total;
            expect(Math.abs(observed - rates[kind]), `${kind}: observed ${observed.toFixed(3)}, configured ${rates[kind]}`).toBeLessThan(0.02);
        }
    });

    it("makes mistakes that show: wrong values, NameErrors, early answers", async () => {
        const problem = dataset.ood[2]!;
        const plan = planSolution(readQuestion(problem.question)!);
        const prefix = referenceTrajectory(plan).slice(0, 2).join("");
        const only = (kind: TeacherErrorKind) => resolveErrorRates({ ...perfectRates, [kind]: 1 });
        const next = (kind: TeacherErrorKind) => proposeStep(sftPrompt(problem.question, prefix), { seed: 1, index: 0, temperature: 1 }, only(kind));
        const codeError = next("codeError");
        const run = await runner.run(extractCode(prefix + codeError.text));
        expect(run.ok).toBe(false);
        expect(run.observation).toMatch(/^NameError/);
        expect(next("prematureAnswer")).toMatchObject({ position: "print", error: "prematureAnswer" });
        expect(next("prematureAnswer").text).toContain(`print(${plan.steps[1]!.variable})`);
        const correct = referenceTrajectory(plan)[2]!;
        for (const kind of ["wrongNumber", "wrongOperator", "skipFact"] as const) {
            const step = next(kind);
            expect(step.error).toBe(kind);
            expect(step.text).not.toBe(correct);
        }
    });

    it("repeats a finished fact by reassigning its variable, so the answer is wrong and one step longer", async () => {
        const only = resolveErrorRates({ ...perfectRates, repeatFact: 1 });
        let checked = 0;
        for (const problem of dataset.train) {
            const plan = planSolution(readQuestion(problem.question)!);
            const pieces = referenceTrajectory(plan);
            const position = plan.steps.findIndex((step, i) => i > 0 && step.fact >= 0 && plan.steps[i - 1]!.fact >= 0 && plan.steps[i - 1]!.fact !== step.fact);
            if (position < 0) continue;
            const prefix = pieces.slice(0, position).join("");
            const repeated = proposeStep(sftPrompt(problem.question, prefix), { seed: 1, index: 0, temperature: 1 }, only);
            const last = plan.steps[position - 1]!.variable;
            expect(repeated.error).toBe("repeatFact");
            expect(repeated.text).toMatch(new RegExp(`\\n${last} = .*\\b${last}\\b`));
            // the rest of the solution as the perfect teacher writes it, on top of the repeated step
            let partial = prefix + repeated.text;
            for (let guard = 0; guard < 20 && !partial.includes("<end_of_code>"); guard += 1) {
                partial += proposeStep(sftPrompt(problem.question, partial), { seed: 1, index: 0, temperature: 1 }, perfectRates).text;
            }
            const run = await runner.run(extractCode(partial));
            expect(run.ok).toBe(true);
            expect(run.observation.trim()).not.toBe(problem.answer);
            expect((partial.match(/^# Step \d+/gm) ?? []).length).toBe(problem.steps + 1);
            checked += 1;
        }
        expect(checked).toBeGreaterThan(20);
    });

    it("is imperfect greedily (under 60% on ood) while sampling often finds a correct path", async () => {
        const teacher = new TeacherBackend();
        const ood = await measurePolicy(dataset.ood.slice(0, 30), teacher, runner, { k: 8, seed: 1 });
        const train = await measurePolicy(dataset.train.slice(0, 30), teacher, runner, { k: 8, seed: 1 });
        expect(ood.greedyAccuracy).toBeLessThan(0.6);
        expect(ood.greedyAccuracy).toBeGreaterThan(0.05);
        expect(train.greedyAccuracy).toBeGreaterThan(ood.greedyAccuracy);
        expect(ood.passAtK).toBeGreaterThan(0.8);
        expect(ood.passAtK).toBeGreaterThan(ood.greedyAccuracy + 0.3);
        // greedy mistakes belong to the problem: the same greedy path every time
        const again = await rollout(teacher, runner, dataset.ood[0]!.question, { temperature: 0 });
        expect(again.answer).toBe(ood.outcomes[0]!.greedyAnswer);
    });

    it("rejects error rates out of range", () => {
        expect(() => new TeacherBackend({ errorRates: { wrongNumber: 1.5 } })).toThrow(/wrongNumber/);
        expect(() => new TeacherBackend({ errorRates: { wrongNumber: 0.6, codeError: 0.6 } })).toThrow(/sum/);
    });
});
