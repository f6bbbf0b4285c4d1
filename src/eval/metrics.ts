/**
 * Evaluation metrics over graded problems. Pure numbers: answers are already grouped by equivalence and graded
 * (after selection), so everything here is fast enough for 10,000 problems x 64 trajectories.
 *
 * Definitions follow the official rStar-Math scripts (microsoft/rStar, branch rStar-math; see docs/eval.md):
 * - top-value pass@1: the answer of the highest-valued terminal is correct (eval_maj.py: `sorted_item[0]["judge"]`);
 * - majority: among the top-k terminals by value, the answer with the most equivalent votes (eval_maj.py
 *   `major_vote_eval`, `count`); ties go to the group holding the highest value, then the earliest (official: random);
 * - weighted: among the same top-k, the answer whose equivalent votes have the largest sum of raw values (eval_maj.py
 *   `sum_score`);
 * - pass@K (oracle): some terminal is correct (eval_output.py `judge`, eval_maj.py `pass n`): it looks at the gold
 *   answer, so it is never a selection method.
 * The denominator is every graded problem, those with no terminal answer included (official `task_size`).
 */
import { seededRandom } from "../util/index.js";


/** One terminal answer of a problem after grading. */
export interface GradedTerminal {
    value: number;
    correct: boolean;
    /** Equivalence class within the problem (0, 1, ...): answers with the same group are equal by the grader. */
    group: number;
}

export interface GradedProblem {
    /** Terminals in the order the search finished them. */
    terminals: readonly GradedTerminal[];
    /** Whether the method's own selected answer is correct. */
    selectedCorrect: boolean;
}

export interface Interval {
    low: number;
    high: number;
}

export interface Rate {
    value: number;
    ci95: Interval;
    correct: number;
    total: number;
}

/** Wilson score interval at 95% (z = 1.96) for `correct` out of `total`. */
export function wilson(correct: number, total: number, z = 1.959963984540054): Interval {
    if (total === 0) return { low: 0, high: 1 };
    const p = correct / total;
    const z2 = z * z;
    const denominator = 1 + z2 / total;
    const centre = (p + z2 / (2 * total)) / denominator;
    const half = (z * Math.sqrt((p * (1 - p)) / total + z2 / (4 * total * total))) / denominator;
    // At 0 or all correct the bound is exactly 0 or 1 (the formula leaves rounding error there).
    return { low: correct === 0 ? 0 : Math.max(0, centre - half), high: correct === total ? 1 : Math.min(1, centre + half) };
}

export function rate(flags: readonly boolean[]): Rate {
    let correct = 0;
    for (const flag of flags) if (flag) correct += 1;
    return { value: flags.length === 0 ? 0 : correct / flags.length, ci95: wilson(correct, flags.length), correct, total: flags.length };
}

/** Indices of the terminals sorted by value, highest first (stable: ties keep search order). */
function byValue(terminals: readonly GradedTerminal[], pick: readonly number[]): number[] {
    return [...pick].sort((a, b) => (terminals[b] as GradedTerminal).value - (terminals[a] as GradedTerminal).value || a - b);
}

/** The terminal index chosen by `how` among `pick` (indices into `terminals`), or -1 when `pick` is empty. */
export function choose(terminals: readonly GradedTerminal[], pick: readonly number[], how: "value" | "majority" | "weighted", topK = 0): number {
    if (pick.length === 0) return -1;
    const ranked = byValue(terminals, pick);
    if (how === "value") return ranked[0] as number;
    const pool = topK > 0 ? ranked.slice(0, topK) : ranked;
    // group -> [votes, value sum, best terminal (highest value, earliest)]
    const votes = new Map<number, { count: number; sum: number; best: number }>();
    for (const index of pool) {
        const terminal = terminals[index] as GradedTerminal;
        const entry = votes.get(terminal.group);
        if (entry === undefined) votes.set(terminal.group, { count: 1, sum: terminal.value, best: index });
        else {
            entry.count += 1;
            entry.sum += terminal.value;
        }
    }
    let winner: { count: number; sum: number; best: number } | undefined;
    for (const entry of votes.values()) {
        if (winner === undefined) {
            winner = entry;
            continue;
        }
        const score = how === "majority" ? entry.count - winner.count : entry.sum - winner.sum;
        if (score > 0) winner = entry;
        else if (score === 0) {
            const a = terminals[entry.best] as GradedTerminal;
            const b = terminals[winner.best] as GradedTerminal;
            if (a.value > b.value || (a.value === b.value && entry.best < winner.best)) winner = entry;
        }
    }
    return (winner as { best: number }).best;
}

function correctAt(terminals: readonly GradedTerminal[], index: number): boolean {
    return index >= 0 && (terminals[index] as GradedTerminal).correct;
}

export interface ProblemVerdicts {
    topValue: boolean;
    majority: boolean;
    weighted: boolean;
    passAtK: boolean;
}

export function problemVerdicts(problem: GradedProblem, voteTopK: number): ProblemVerdicts {
    const all = problem.terminals.map((_, index) => index);
    return {
        topValue: correctAt(problem.terminals, choose(problem.terminals, all, "value")),
        majority: correctAt(problem.terminals, choose(problem.terminals, all, "majority", voteTopK)),
        weighted: correctAt(problem.terminals, choose(problem.terminals, all, "weighted", voteTopK)),
        passAtK: problem.terminals.some((terminal) => terminal.correct),
    };
}

export interface Metrics {
    problems: number;
    /** The method's selected answer. */
    accuracy: Rate;
    topValue: Rate;
    majority: Rate & { topK: number };
    weighted: Rate & { topK: number };
    /** Oracle: some terminal is correct. Uses the gold answer; never a selection method. */
    passAtK: Rate & { k: number; oracle: true };
}

export function computeMetrics(problems: readonly GradedProblem[], voteTopK = 0): Metrics {
    const verdicts = problems.map((problem) => problemVerdicts(problem, voteTopK));
    const k = problems.reduce((most, problem) => Math.max(most, problem.terminals.length), 0);
    return {
        problems: problems.length,
        accuracy: rate(problems.map((problem) => problem.selectedCorrect)),
        topValue: rate(verdicts.map((v) => v.topValue)),
        majority: { ...rate(verdicts.map((v) => v.majority)), topK: voteTopK },
        weighted: { ...rate(verdicts.map((v) => v.weighted)), topK: voteTopK },
        passAtK: { ...rate(verdicts.map((v) => v.passAtK)), k, oracle: true },
    };
}

/** Deterministic 32-bit PRNG (mulberry32), shared with the rest of the package. */
export { seededRandom };

export interface ScalingPoint {
    k: number;
    method: "majority" | "weighted" | "reward model";
    /** Mean accuracy over draws. */
    mean: number;
    /** Standard deviation over draws. */
    sd: number;
    min: number;
    max: number;
    draws: number;
}

export interface ScalingOptions {
    /** Subsample draws per k (default 8). */
    draws?: number;
    seed?: number;
    /** Largest k (default: the most terminals any problem has). */
    maxK?: number;
}

/** 1, 2, 4, ... up to max, with max itself last. */
export function scalingKs(max: number): number[] {
    const ks: number[] = [];
    for (let k = 1; k < max; k *= 2) ks.push(k);
    if (max >= 1) ks.push(max);
    return ks;
}

/**
 * Test-time scaling from one run: for k = 1, 2, 4, ... K, each problem keeps a seeded random subset of k of its
 * finished trajectories (all of them when it has fewer), and the answer is chosen from the subset by majority,
 * weighted vote or the reward model's value. Several draws give a mean and a spread.
 */
export function scalingCurve(problems: readonly GradedProblem[], options: ScalingOptions = {}): ScalingPoint[] {
    const draws = options.draws ?? 8;
    const maxK = options.maxK ?? problems.reduce((most, problem) => Math.max(most, problem.terminals.length), 0);
    const random = seededRandom(options.seed ?? 0);
    const methods = ["majority", "weighted", "reward model"] as const;
    // Flat typed arrays and reused buffers: the curve touches every sampled terminal once per (k, draw).
    const most = problems.reduce((largest, problem) => Math.max(largest, problem.terminals.length), 1);
    const pick = new Int32Array(most);
    const counts = new Float64Array(most);
    const sums = new Float64Array(most);
    const bestValue = new Float64Array(most);
    const bestIndex = new Int32Array(most);
    const touched = new Int32Array(most);
    const flat = problems.map((problem) => ({
        value: Float64Array.from(problem.terminals, (t) => t.value),
        group: Int32Array.from(problem.terminals, (t) => t.group),
        correct: Uint8Array.from(problem.terminals, (t) => (t.correct ? 1 : 0)),
    }));
    /** Group a beats group b on score, then on its best value, then on its best (earliest) index, as `choose` does. */
    const beats = (a: number, b: number, groupA: number, groupB: number): boolean => {
        if (a !== b) return a > b;
        const va = bestValue[groupA] as number;
        const vb = bestValue[groupB] as number;
        if (va !== vb) return va > vb;
        return (bestIndex[groupA] as number) < (bestIndex[groupB] as number);
    };
    const points: ScalingPoint[] = [];
    const n = Math.max(1, problems.length);
    for (const k of scalingKs(maxK)) {
        const accuracies = methods.map(() => [] as number[]);
        for (let draw = 0; draw < draws; draw += 1) {
            let majority = 0;
            let weighted = 0;
            let top = 0;
            for (const terminals of flat) {
                const size = terminals.value.length;
                if (size === 0) continue;
                for (let i = 0; i < size; i += 1) pick[i] = i;
                const take = Math.min(k, size);
                if (take < size) {
                    for (let i = 0; i < take; i += 1) {
                        const j = i + Math.floor(random() * (size - i));
                        const swap = pick[i] as number;
                        pick[i] = pick[j] as number;
                        pick[j] = swap;
                    }
                }
                // One pass: the top-valued terminal, and per equivalence group its votes, value sum and best terminal.
                let used = 0;
                let topIndex = -1;
                for (let i = 0; i < take; i += 1) {
                    const index = pick[i] as number;
                    const value = terminals.value[index] as number;
                    if (topIndex < 0 || value > (terminals.value[topIndex] as number) || (value === terminals.value[topIndex] && index < topIndex)) topIndex = index;
                    const group = terminals.group[index] as number;
                    if (counts[group] === 0) {
                        touched[used] = group;
                        used += 1;
                        bestValue[group] = value;
                        bestIndex[group] = index;
                    } else if (value > (bestValue[group] as number) || (value === bestValue[group] && index < (bestIndex[group] as number))) {
                        bestValue[group] = value;
                        bestIndex[group] = index;
                    }
                    counts[group] = (counts[group] as number) + 1;
                    sums[group] = (sums[group] as number) + value;
                }
                let byCount = -1;
                let bySum = -1;
                for (let i = 0; i < used; i += 1) {
                    const group = touched[i] as number;
                    if (byCount < 0 || beats(counts[group] as number, counts[byCount] as number, group, byCount)) byCount = group;
                    if (bySum < 0 || beats(sums[group] as number, sums[bySum] as number, group, bySum)) bySum = group;
                }
                majority += terminals.correct[bestIndex[byCount] as number] as number;
                weighted += terminals.correct[bestIndex[bySum] as number] as number;
                top += terminals.correct[topIndex] as number;
                for (let i = 0; i < used; i += 1) {
                    const group = touched[i] as number;
                    counts[group] = 0;
                    sums[group] = 0;
                }
            }
            (accuracies[0] as number[]).push(majority / n);
            (accuracies[1] as number[]).push(weighted / n);
            (accuracies[2] as number[]).push(top / n);
        }
        for (const [m, method] of methods.entries()) points.push({ k, method, ...summarize(accuracies[m] as number[]) });
    }
    return points;
}

function summarize(values: readonly number[]): { mean: number; sd: number; min: number; max: number; draws: number } {
    const mean = values.reduce((sum, value) => sum + value, 0) / Math.max(1, values.length);
    const variance = values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / Math.max(1, values.length - 1);
    return { mean, sd: values.length > 1 ? Math.sqrt(variance) : 0, min: Math.min(...values), max: Math.max(...values), draws: values.length };
}

export interface PairedDifference {
    /** Problems both runs graded. */
    problems: number;
    /** accuracy(a) - accuracy(b) on those problems. */
    difference: number;
    ci95: Interval;
    /** Problems only a got right, only b got right. */
    onlyA: number;
    onlyB: number;
    resamples: number;
}

/**
 * Paired difference of two runs' per-problem correctness on the same problems, with a percentile bootstrap interval
 * over problems (seeded, `resamples` draws).
 */
export function pairedDifference(a: readonly boolean[], b: readonly boolean[], options: { resamples?: number; seed?: number } = {}): PairedDifference {
    if (a.length !== b.length) throw new RangeError(`paired runs need the same problems (${a.length} vs ${b.length})`);
    const n = a.length;
    const deltas = a.map((value, index) => Number(value) - Number(b[index]));
    const difference = n === 0 ? 0 : deltas.reduce((sum, d) => sum + d, 0) / n;
    const resamples = options.resamples ?? 2000;
    const random = seededRandom(options.seed ?? 0);
    const means = new Float64Array(resamples);
    for (let r = 0; r < resamples; r += 1) {
        let sum = 0;
        for (let i = 0; i < n; i += 1) sum += deltas[Math.floor(random() * n)] as number;
        means[r] = n === 0 ? 0 : sum / n;
    }
    means.sort();
    const at = (q: number) => (resamples === 0 ? difference : (means[Math.min(resamples - 1, Math.max(0, Math.floor(q * resamples)))] as number));
    return {
        problems: n,
        difference,
        ci95: { low: at(0.025), high: at(0.975) },
        onlyA: deltas.filter((d) => d > 0).length,
        onlyB: deltas.filter((d) => d < 0).length,
        resamples,
    };
}
