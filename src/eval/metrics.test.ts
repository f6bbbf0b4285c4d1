import { describe, expect, it } from "vitest";
import { choose, computeMetrics, pairedDifference, scalingCurve, scalingKs, seededRandom, wilson, type GradedProblem, type GradedTerminal } from "./metrics.js";

const t = (value: number, group: number, correct: boolean): GradedTerminal => ({ value, group, correct });

describe("eval metrics", () => {
    it("Wilson interval matches the textbook values", () => {
        // 8/10: Wilson 95% = [0.4902, 0.9433] (Agresti & Coull 1998, z = 1.96).
        const ci = wilson(8, 10);
        expect(ci.low).toBeCloseTo(0.4902, 3);
        expect(ci.high).toBeCloseTo(0.9433, 3);
        expect(wilson(0, 20).low).toBe(0);
        expect(wilson(20, 20).high).toBe(1);
        expect(wilson(0, 0)).toEqual({ low: 0, high: 1 });
    });

    it("top value, majority and weighted vote pick different answers where they should", () => {
        // Group 0 (wrong) has the single highest value; group 1 (correct) has three low-valued votes;
        // group 2 (wrong) has two high votes whose value sum beats group 1's.
        const terminals = [t(0.9, 0, false), t(0.1, 1, true), t(0.1, 1, true), t(0.1, 1, true), t(0.8, 2, false), t(0.7, 2, false)];
        const all = terminals.map((_, i) => i);
        expect(choose(terminals, all, "value")).toBe(0);
        expect(terminals[choose(terminals, all, "majority")]!.group).toBe(1);
        expect(terminals[choose(terminals, all, "weighted")]!.group).toBe(2);
        // top-2 by value: 0.9 (group 0) and 0.8 (group 2): a 1-1 tie goes to the higher value.
        expect(choose(terminals, all, "majority", 2)).toBe(0);
        // top-3: 0.9, 0.8, 0.7 -> group 2 has two votes.
        expect(terminals[choose(terminals, all, "majority", 3)]!.group).toBe(2);
        expect(choose(terminals, [], "value")).toBe(-1);
    });

    it("weighted vote sums raw values as the official sum_score does (negative values count against)", () => {
        const terminals = [t(-0.9, 0, false), t(-0.9, 0, false), t(0.2, 1, true)];
        expect(terminals[choose(terminals, [0, 1, 2], "weighted")]!.group).toBe(1);
        expect(terminals[choose(terminals, [0, 1, 2], "majority")]!.group).toBe(0);
    });

    it("computeMetrics counts every problem, none with no answer as wrong, and labels pass@K as oracle", () => {
        const problems: GradedProblem[] = [
            { terminals: [t(0.9, 0, true), t(0.1, 1, false)], selectedCorrect: true },
            { terminals: [t(0.9, 0, false), t(0.1, 1, true)], selectedCorrect: false },
            { terminals: [], selectedCorrect: false },
            { terminals: [t(0.5, 0, false), t(0.4, 0, false), t(0.3, 1, true)], selectedCorrect: false },
        ];
        const metrics = computeMetrics(problems);
        expect(metrics.problems).toBe(4);
        expect(metrics.accuracy.value).toBe(0.25);
        expect(metrics.topValue.correct).toBe(1);
        expect(metrics.majority.correct).toBe(1);
        expect(metrics.passAtK).toMatchObject({ correct: 3, total: 4, k: 3, oracle: true });
        expect(metrics.accuracy.ci95).toEqual(wilson(1, 4));
    });

    it("the scaling curve at k = K equals the full-run metrics, is seeded, and k = 1 is the mean single-sample accuracy", () => {
        const random = seededRandom(7);
        const problems: GradedProblem[] = Array.from({ length: 60 }, () => ({
            terminals: Array.from({ length: 8 }, () => {
                const group = Math.floor(random() * 3);
                return t(random() * 2 - 1, group, group === 0);
            }),
            selectedCorrect: false,
        }));
        expect(scalingKs(8)).toEqual([1, 2, 4, 8]);
        expect(scalingKs(6)).toEqual([1, 2, 4, 6]);
        const curve = scalingCurve(problems, { draws: 5, seed: 3 });
        expect(curve).toHaveLength(12);
        const full = computeMetrics(problems);
        const at = (k: number, method: string) => curve.find((point) => point.k === k && point.method === method)!;
        expect(at(8, "majority").mean).toBeCloseTo(full.majority.value, 12);
        expect(at(8, "weighted").mean).toBeCloseTo(full.weighted.value, 12);
        expect(at(8, "reward model").mean).toBeCloseTo(full.topValue.value, 12);
        expect(at(8, "majority").sd).toBe(0);
        // k = 1: all three methods pick the one sampled terminal, so they agree draw by draw.
        expect(at(1, "majority").mean).toBeCloseTo(at(1, "reward model").mean, 12);
        const expectedSingle = problems.reduce((sum, p) => sum + p.terminals.filter((x) => x.correct).length / 8, 0) / problems.length;
        expect(Math.abs(at(1, "majority").mean - expectedSingle)).toBeLessThan(0.08);
        expect(at(1, "majority").sd).toBeGreaterThan(0);
        expect(scalingCurve(problems, { draws: 5, seed: 3 })).toEqual(curve);
        expect(scalingCurve(problems, { draws: 5, seed: 4 })).not.toEqual(curve);
    });

    it("paired difference: the exact mean difference with a bootstrap interval that covers it", () => {
        const a = Array.from({ length: 200 }, (_, i) => i % 2 === 0 || i % 5 === 0);
        const b = Array.from({ length: 200 }, (_, i) => i % 2 === 0);
        const diff = pairedDifference(a, b, { seed: 1 });
        expect(diff.difference).toBeCloseTo(20 / 200, 12);
        expect(diff.onlyA).toBe(20);
        expect(diff.onlyB).toBe(0);
        expect(diff.ci95.low).toBeGreaterThan(0.05);
        expect(diff.ci95.high).toBeLessThan(0.15);
        expect(diff.ci95.low).toBeLessThanOrEqual(diff.difference);
        const same = pairedDifference(b, b);
        expect(same).toMatchObject({ difference: 0, ci95: { low: 0, high: 0 } });
        expect(() => pairedDifference([true], [])).toThrow(RangeError);
    });
});
