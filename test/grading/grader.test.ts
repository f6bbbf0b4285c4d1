import { afterAll, describe, expect, it } from "vitest";
import { createGrader } from "../../src/grading/index.js";

const grader = createGrader({ timeoutMs: 20_000 });
afterAll(() => grader.dispose());

describe("grader with sympy", () => {
    const cases: Array<[string, string, boolean, string]> = [
        ["3\\sqrt{13}", "\\sqrt{117}", true, "radicals"],
        ["\\sqrt{2}+\\sqrt{5}", "\\sqrt 2+\\sqrt 5", true, "radicals"],
        ["\\frac{\\sqrt{6}}{2}", "\\sqrt{\\frac{3}{2}}", true, "radicals"],
        ["\\sqrt{2}", "1.414214", true, "radical vs decimal"],
        ["\\sqrt{2}", "1.4142", false, "radical vs short decimal"],
        ["\\frac{9}{4}\\pi", "\\frac94\\pi", true, "pi"],
        ["2\\pi", "6.283185", true, "pi vs decimal"],
        ["\\pi", "3.14", false, "pi vs decimal"],
        ["\\frac{x+2}{7}", "\\frac{x}{7}+\\frac{2}{7}", true, "symbolic"],
        ["x^2-1", "(x-1)(x+1)", true, "symbolic"],
        ["\\tan^2(y)+1", "\\sec^2(y)", true, "trig"],
        ["2 \\sin b \\cos a", "\\sin(a+b) - \\sin(a-b)", true, "trig"],
        ["\\frac{\\pi r}{h+r}", "\\frac{r\\pi}{r+h}", true, "symbolic"],
        ["\\frac{\\sqrt{\\sqrt{11}+\\sqrt{194}}}{15+2\\sqrt{33}}", "\\frac{\\sqrt{\\sqrt{11}+\\sqrt{194}}}{2\\sqrt{33}+15}", true, "nested radicals"],
        ["\\sqrt{x^2}", "x", false, "no assumptions on symbols"],
        ["(a+5)(b+2)", "(+5)(b+2)", false, "symbolic"],
        ["\\log_2 8", "3", true, "log"],
        ["e^{i\\pi}", "-1", true, "complex exponential"],
        ["\\frac{1+i}{1-i}", "i", true, "complex"],
        ["y = 3x", "3x - y = 0", true, "equation"],
        ["2x+4y-3=0", "y=-\\frac{1}{2}x+\\frac{3}{4}", true, "equation"],
        ["x^2/4 + y^2/3 = 1", "x^2/16 + y^2/12 = 1/4", true, "equation"],
        ["34x+45y-20z+100=0", "-34x-45y+20z-100=0", true, "equation"],
        ["y = 3x", "y = 3x + 1", false, "equation"],
        ["x < 1", "-x > -1", true, "inequality"],
        ["x < 1", "x > -1", false, "inequality"],
        ["x \\le 2y", "2y \\ge x", true, "inequality"],
        ["1 \\pm \\sqrt{19}", "1+\\sqrt{19}, 1-\\sqrt{19}", true, "pm"],
        ["\\{1\\pm\\sqrt{5},-2\\}", "-2, 1-\\sqrt5, 1+\\sqrt5", true, "pm in set"],
        ["\\left( 3, \\frac{\\pi}{2} \\right)", "(3, \\frac{\\pi}{2})", true, "tuple"],
        ["\\begin{pmatrix}\\frac{t}{2}\\\\ \\frac{t}{3}\\end{pmatrix}", "\\frac{t}{6}\\begin{pmatrix}3\\\\2\\end{pmatrix}", true, "scalar times vector"],
        ["\\frac{\\sqrt{3}}{3}", "\\frac{1}{\\sqrt{3}}", true, "rationalised"],
        ["4", "4\\sqrt{2}", false, "radical"],
    ];
    it.each(cases)("%s vs %s → %s (%s)", async (gold, pred, expected) => {
        const judgement = await grader.judge(gold, pred);
        expect(judgement.equal, JSON.stringify(judgement)).toBe(expected);
    });

    it("reports the method", async () => {
        expect(await grader.judge("1/2", "0.5")).toEqual({ equal: true, method: "fast" });
        expect((await grader.judge("3\\sqrt{13}", "\\sqrt{117}")).method).toBe("cas");
        expect(await grader.judge("\\text{yes}", "Yes")).toEqual({ equal: true, method: "text" });
    });

    it("extracts from model text when asked", async () => {
        expect(await grader.equal("\\frac{14}{3}", "so f = 2+\\frac{5}{3}+1=\\boxed{\\frac{14}{3}}", { extract: true })).toBe(true);
        // No box and no answer phrase: the whole text is the answer (issue 8 §6), and an empty text states none.
        expect(await grader.judge("3", "no answer here", { extract: true })).toMatchObject({ equal: false, method: "text" });
        expect(await grader.judge("3", "", { extract: true })).toMatchObject({ equal: false, method: "no-answer" });
    });

    it("accepts any of several gold answers", async () => {
        expect(await grader.equal(["\\sqrt{2}", "x=2"], "2")).toBe(true);
        expect(await grader.equal([], "2")).toBe(false);
    });

    it("is total: junk in, false out", async () => {
        for (const junk of ["", "}", "\\frac{", "\\begin{pmatrix}", "((((", "\u0000", "x".repeat(100_000), "\\sqrt{".repeat(500)]) {
            expect((await grader.judge(junk, "1")).equal).toBe(false);
            expect((await grader.judge("1", junk)).equal).toBe(false);
        }
    });
});

describe("time budget", () => {
    it("kills a CAS that runs past the budget, answers false, and recovers", async () => {
        const slow = createGrader({ timeoutMs: 1500 });
        try {
            // sympy expands a power tower far beyond any budget.
            const judgement = await slow.judge("2^{3^{4^{5}}} + \\sqrt{2}", "2^{3^{4^{5}}} + \\sqrt{3}");
            expect(judgement).toMatchObject({ equal: false, method: "timeout" });
            expect(await slow.equal("3\\sqrt{13}", "\\sqrt{117}")).toBe(true);
        } finally {
            slow.dispose();
        }
    });

    it("without the CAS, undecided pairs are false and say so", async () => {
        const fastOnly = createGrader({ cas: false });
        expect(await fastOnly.judge("3\\sqrt{13}", "\\sqrt{117}")).toMatchObject({ equal: false, method: "no-cas" });
        expect(await fastOnly.equal("1/2", "0.5")).toBe(true);
        fastOnly.dispose();
    });
});
