/**
 * Grading throughput: simple numeric pairs (fast path, in-process) against symbolic pairs that go through sympy.
 * Run: npx tsx bench/main.ts grading
 */
import { createGrader, equalFast } from "../src/grading/index.js";
import { measureRate, type BenchModule } from "./harness.js";

const numericPairs: Array<[string, string]> = [
    ["42", "42"], ["987654321", "987654322"], ["\\frac{1}{2}", "0.5"], ["\\frac{2}{7}", "0.285714"], ["\\frac{6}{8}", "\\frac34"],
    ["-17", "-17.0"], ["1,000", "1000"], ["25\\%", "0.25"], ["3.14159", "3.14159"], ["\\dfrac{-3}{4}", "-0.75"],
];

const symbolicPairs: Array<[string, string]> = [
    ["3\\sqrt{13}", "\\sqrt{117}"], ["\\frac{x+2}{7}", "\\frac{x}{7}+\\frac{2}{7}"], ["x^2-1", "(x-1)(x+1)"],
    ["\\frac{\\sqrt{3}}{3}", "\\frac{1}{\\sqrt{3}}"], ["\\frac{9}{4}\\pi", "\\frac94\\pi"], ["\\tan^2(y)+1", "\\sec^2(y)"],
];

export const gradingBench: BenchModule = {
    title: "grading",
    run: async () => {
        // cacheSize 0: every call tokenizes, parses and compares both strings (no memo of analysed answers).
        const grader = createGrader({ cacheSize: 0 });
        try {
            const uncached = await measureRate(async () => {
                for (const [g, p] of numericPairs) await grader.equal(g, p);
            }, { opsPerCall: numericPairs.length });
            const cached = await measureRate(() => {
                for (const [g, p] of numericPairs) equalFast(g, p);
            }, { opsPerCall: numericPairs.length });
            await grader.equal("\\sqrt{2}", "\\sqrt{2}+0"); // start the helper outside the timing
            const symbolic = await measureRate(async () => {
                for (const [g, p] of symbolicPairs) await grader.equal(g, p);
            }, { opsPerCall: symbolicPairs.length, minMs: 3000, minIterations: 2 });
            return {
                title: "grading",
                rows: [
                    { name: "numeric pairs, parsed every time", value: uncached, unit: "pairs/s" },
                    { name: "numeric pairs, equalFast (answers cached)", value: cached, unit: "pairs/s", ratio: { value: cached / uncached, against: "parsed every time" } },
                    { name: "symbolic pairs via sympy", value: symbolic, unit: "pairs/s", ratio: { value: symbolic / uncached, against: "parsed every time" } },
                ],
                notes: [
                    `numeric: ${numericPairs.length} pairs (integers, big integers, fractions, decimals, percent, separators); never touch Python`,
                    `symbolic: ${symbolicPairs.length} pairs (radicals, pi, polynomials, trig); one sympy round-trip per pair`,
                ],
            };
        } finally {
            grader.dispose();
        }
    },
};
