/**
 * Evaluation metrics and report generation on a synthetic 10,000-problem x 64-trajectory run: the metrics (Wilson
 * intervals, majority / weighted / top value / pass@K), the test-time-scaling curve (k = 1..64, 8 seeded draws, three
 * selections), a paired bootstrap (2,000 resamples) and `rstar report`'s HTML with its Vega charts.
 * Run: npx tsx bench/main.ts eval
 */
import { buildReport, computeMetrics, pairedDifference, scalingCurve, seededRandom, summarize, type EvalProblemRecord, type GradedProblem } from "../src/eval/index.js";
import { BASE_SETTINGS } from "../src/search/index.js";
import type { BenchModule } from "./harness.js";

const PROBLEMS = 10_000;
const TRAJECTORIES = 64;

function syntheticRun(seed: number): { graded: GradedProblem[]; records: EvalProblemRecord[] } {
    const random = seededRandom(seed);
    const graded: GradedProblem[] = [];
    const records: EvalProblemRecord[] = [];
    for (let i = 0; i < PROBLEMS; i += 1) {
        const skill = random();
        const terminals = Array.from({ length: TRAJECTORIES }, () => {
            const right = random() < skill;
            const group = right ? 0 : 1 + Math.floor(random() * 6);
            return { value: (right ? 0.3 : -0.1) + (random() - 0.5), correct: right, group };
        });
        graded.push({ terminals, selectedCorrect: terminals[0]!.correct });
        records.push({
            index: i, question: `Synthetic problem ${i}?`, gold: "0", level: `Level ${1 + (i % 5)}`, selected_answer: "0", selected_value: 0.5, correct: terminals[0]!.correct,
            top_value_correct: false, majority_correct: false, weighted_correct: false, pass_at_k: true,
            terminals: terminals.map((t, j) => ({ answer: String(t.group), value: t.value, correct: t.correct, group: t.group, tag: `0.${j}` })),
            votes: [{ answer: "0", votes: 10, value_sum: 3, correct: true }], tokens: 5000, requests: 70, seconds: 12, error: null,
            trajectory: [{ tag: "0.1", kind: "code", text: "<code>\nx = 1 + 2\nprint(x)\n<end_of_code>", code: "<code>\nx = 1 + 2\nprint(x)\n<end_of_code>", observation: "3" }],
        });
    }
    return { graded, records };
}

const time = async <T>(fn: () => Promise<T> | T): Promise<[T, number]> => {
    const start = performance.now();
    const value = await fn();
    return [value, (performance.now() - start) / 1000];
};

export const evalBench: BenchModule = {
    title: "eval metrics and report",
    run: async () => {
        const a = syntheticRun(1);
        const b = syntheticRun(2);
        const [, metricsSeconds] = await time(() => computeMetrics(a.graded));
        const [, curveSeconds] = await time(() => scalingCurve(a.graded, { draws: 8, seed: 0 }));
        const [, pairedSeconds] = await time(() => pairedDifference(a.graded.map((p) => p.selectedCorrect), b.graded.map((p) => p.selectedCorrect)));
        const summary = (records: EvalProblemRecord[], graded: GradedProblem[], method: string) =>
            summarize({ method, dataset: "synthetic", policy: "synthetic", rewardModel: null, settings: BASE_SETTINGS, total: PROBLEMS, records, graded, wallSeconds: 1, concurrency: 8, interrupted: false, out: method });
        const [summaryA, summarizeSeconds] = await time(() => summary(a.records, a.graded, "A"));
        const summaryB = summary(b.records, b.graded, "B");
        const runs = [
            { name: "A", dir: "A", summary: summaryA, records: a.records },
            { name: "B", dir: "B", summary: summaryB, records: b.records },
        ];
        const [html, reportSeconds] = await time(() => buildReport(runs, { title: "bench", projection: { problems: 100_000, rollouts: null, servers: 8 }, maxProblemRows: 1000 }));
        return {
            title: "eval metrics and report",
            rows: [
                { name: "metrics, 10,000 problems x 64 trajectories", value: metricsSeconds, unit: "s" },
                { name: "scaling curve, k=1..64, 8 draws, 3 selections", value: curveSeconds, unit: "s" },
                { name: "paired bootstrap, 2,000 resamples", value: pairedSeconds, unit: "s" },
                { name: "eval.json summary (metrics + curve)", value: summarizeSeconds, unit: "s" },
                { name: "report HTML, 2 runs, 4 charts, 1,000 rows each", value: reportSeconds, unit: "s" },
                { name: "report size", value: html.length / 1e6, unit: "MB" },
            ],
            notes: ["synthetic graded run (no search); time is single-threaded wall clock on this machine"],
        };
    },
};
