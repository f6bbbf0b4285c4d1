import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { officialPrompt } from "../../src/data/index.js";
import { sftPrompt } from "../../src/steps/index.js";
import { generateDataset } from "../../src/synth/index.js";
import { trainerScript, type HeldoutReport } from "../../src/train/index.js";
import { trainingPython } from "./support.js";

/**
 * Issue 8 item 2: PPM held-out pairs come from problems never seen in training, and accuracy is reported by kind.
 * These check train/ppm_heldout.py (the functions the trainer and `rstar train eval-ppm` use) on pair records shaped
 * like `rstar extract ppm` output.
 */
const python = trainingPython();

function heldout<T>(command: "split" | "kinds" | "report", input: object): T {
    const run = spawnSync(python!, [trainerScript("ppm_heldout.py"), command], { input: JSON.stringify(input), encoding: "utf8", timeout: 60_000 });
    if (run.status !== 0) throw new Error(`ppm_heldout.py ${command} failed: ${run.stderr}`);
    return JSON.parse(run.stdout) as T;
}

interface PairRecord {
    prompt: string;
    pos: string;
    neg: string;
    /** Test bookkeeping (the Python side never reads it): which problem and which tree the pair came from. */
    problem: string;
    tree: string;
}

/** Step pairs at every depth of each problem's reference solution; every third problem searched twice (two trees). */
function pairRecords(count: number): PairRecord[] {
    const records: PairRecord[] = [];
    for (const problem of generateDataset({ seed: 21, train: count, test: 0, ood: 0 }).train) {
        const steps = problem.solution.split(/(?<=<end_of_step>\n)/);
        const trees = Number(problem.id.slice(-1)) % 3 === 0 ? 2 : 1;
        for (let tree = 0; tree < trees; tree += 1) {
            for (let k = 0; k < steps.length - 1; k += 1) {
                const pos = steps[k]!;
                const neg = pos.replace(/= (.*)$/m, "= $1 + 1");
                records.push({ prompt: sftPrompt(problem.question, steps.slice(0, k).join("")), pos, neg, problem: problem.id, tree: `${problem.id}/${tree}` });
            }
        }
    }
    return records;
}

describe.skipIf(python === null)("PPM held-out pairs: split by problem, kinds, intervals (train/ppm_heldout.py)", () => {
    it("puts every pair of a problem (and so of each of its trees) on one side only", () => {
        const records = pairRecords(60);
        const problems = new Set(records.map((r) => r.problem));
        expect(records.length).toBeGreaterThan(3 * problems.size); // several pairs per problem: a pair-level split would leak
        for (const seed of [0, 1, 2]) {
            const { train, test } = heldout<{ train: number[]; test: number[] }>("split", { records, test_fraction: 0.2, seed });
            expect([...train, ...test].sort((a, b) => a - b)).toEqual(records.map((_, i) => i));
            const side = (indices: number[], key: "problem" | "tree") => new Set(indices.map((i) => records[i]![key]));
            for (const key of ["problem", "tree"] as const) {
                const both = [...side(train, key)].filter((id) => side(test, key).has(id));
                expect(both, `${key}s on both sides (seed ${seed})`).toEqual([]);
            }
            expect(side(test, "problem").size).toBe(Math.round(0.2 * problems.size));
        }
        const a = heldout<{ test: number[] }>("split", { records, test_fraction: 0.2, seed: 0 });
        expect(heldout<{ test: number[] }>("split", { records, test_fraction: 0.2, seed: 0 }).test).toEqual(a.test);
        expect(heldout<{ test: number[] }>("split", { records, test_fraction: 0.2, seed: 1 }).test).not.toEqual(a.test);
    });

    it("holds nothing out when there is only one problem", () => {
        const records = pairRecords(1).filter((r) => r.tree.endsWith("/0"));
        expect(heldout<{ train: number[]; test: number[] }>("split", { records, test_fraction: 0.5, seed: 0 }).test).toEqual([]);
    });

    it("classifies pairs from their step texts: code vs code, code vs print/answer, correct vs wrong final answer", () => {
        const code = "<code>\n# Step 2: subtract 7\nmoney = start - 7\n<end_of_step>\n";
        const code2 = "# Step 2: subtract 7\nmoney = start + 7\n<end_of_step>\n";
        const print = "# Now print the final answer\nprint(money)\n<end_of_code>\n<output>85<end_of_output>\n";
        const printWrong = "# Now print the final answer\nprint(money + 1)\n<end_of_code>\n<output>86<end_of_output>\n";
        const answer = "<answer>Aisha has \\boxed{85} dollars left.<end_of_answer>";
        const answerWrong = "<answer>Aisha has \\boxed{86} dollars left.<end_of_answer>";
        const cases: [string, string, string][] = [
            [code, code2, "code_vs_code"],
            [code, print, "code_vs_answer"], // a premature print: the code step was right to continue
            [print, code, "code_vs_answer"],
            [code, answer, "code_vs_answer"],
            [print, printWrong, "final_answer"],
            [answer, answerWrong, "final_answer"],
            // whole trajectories (rstar extract ppm --final-pairs paper)
            [code + print + answer, code2 + printWrong + answerWrong, "final_answer"],
        ];
        const kinds = heldout<string[]>("kinds", { records: cases.map(([pos, neg]) => ({ prompt: officialPrompt("q"), pos, neg })) });
        expect(kinds).toEqual(cases.map(([, , kind]) => kind));
    });

    it("reports accuracy overall and by kind with sample sizes, a Wilson interval and a problem bootstrap", () => {
        // 40 pairs from 20 problems: code_vs_code 30 (24 right), code_vs_answer 10 (6 right)
        const hits: boolean[] = [];
        const kinds: string[] = [];
        const problems: string[] = [];
        for (let i = 0; i < 40; i += 1) {
            const codeVsCode = i < 30;
            hits.push(codeVsCode ? i % 5 !== 0 : i % 5 < 3);
            kinds.push(codeVsCode ? "code_vs_code" : "code_vs_answer");
            problems.push(`p${i % 20}`);
        }
        const report = heldout<HeldoutReport>("report", { hits, kinds, problems });
        expect([report.pairs, report.problems, report.correct, report.accuracy]).toEqual([40, 20, 30, 0.75]);
        // Wilson: (p + z²/2n ± z·sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n), computed here independently
        const z = 1.959964;
        const n = 40;
        const p = 0.75;
        const centre = (p + (z * z) / (2 * n)) / (1 + (z * z) / n);
        const half = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / (1 + (z * z) / n);
        expect(report.wilson95![0]).toBeCloseTo(centre - half, 3);
        expect(report.wilson95![1]).toBeCloseTo(centre + half, 3);
        expect(report.bootstrap95![0]).toBeLessThan(0.75);
        expect(report.bootstrap95![1]).toBeGreaterThan(0.75);
        expect(report.by_kind.code_vs_code).toMatchObject({ pairs: 30, correct: 24, accuracy: 0.8 });
        expect(report.by_kind.code_vs_answer).toMatchObject({ pairs: 10, problems: 10, correct: 6, accuracy: 0.6 });
        expect(report.by_kind.final_answer).toEqual({ pairs: 0, problems: 0, correct: 0, accuracy: null, wilson95: null, bootstrap95: null });
        // every problem half right: resampling problems cannot move the accuracy
        const even = heldout<HeldoutReport>("report", { hits: [true, false, true, false], kinds: Array(4).fill("code_vs_code"), problems: ["a", "a", "b", "b"] });
        expect(even.bootstrap95).toEqual([0.5, 0.5]);
    });
});
