// Grading raw model text: the answer is taken out of sentences around it (last \boxed{}/\fbox{}, else an answer
// phrase, else the whole text) for every category of the grading conventions, then compared as usual.
import { afterAll, describe, expect, it } from "vitest";
import { createGrader } from "../../src/grading/index.js";

const grader = createGrader({ timeoutMs: 20_000 });
afterAll(() => grader.dispose());

// [gold, the answer as a model would write it, equal?, category]. The last field marks answers that hold a `$`
// (currency), which cannot sit inside `$…$` math delimiters, so they are only tried boxed.
type Case = [string, string, boolean, string, "boxed-only"?];
const cases: Case[] = [
    // Numbers: exact values, decimals at 6 places, big integers, separators, notation and words.
    ["\\frac{2}{7}", "0.285714", true, "decimal 6 places"],
    ["\\frac{2}{7}", "0.29", false, "decimal 6 places"],
    ["2", "2.0003", false, "decimal"],
    ["987654321", "987654322", false, "big integer"],
    ["123456789012345678901234567890", "123456789012345678901234567890", true, "big integer"],
    ["3\\sqrt{13}", "\\sqrt{117}", true, "radical (CAS)"],
    ["\\frac{9}{4}\\pi", "\\frac94\\pi", true, "pi"],
    ["2\\pi", "2π", true, "unicode pi"],
    ["7425000", "7,425,000", true, "thousands"],
    ["1000", "1{,}000", true, "thousands"],
    ["12500", "12,\\!500", true, "thousands"],
    ["34", "3,4", false, "comma list, not thousands"],
    ["300000", "3 \\times 10^{5}", true, "scientific notation"],
    ["\\frac{7}{3}", "2\\frac{1}{3}", true, "mixed number"],
    ["-3", "−3", true, "unicode minus"],
    ["7", "seven", true, "number word"],
    ["3", "+3", true, "leading plus"],
    ["90", "90^\\circ", true, "degrees"],
    ["90", "90°", true, "degree sign"],
    // Percent.
    ["25\\%", "0.25", true, "percent"],
    ["25\\%", "\\frac14", true, "percent"],
    ["25\\%", "25", true, "percent dropped"],
    ["25", "25\\%", true, "percent added"],
    ["0.4", "40", false, "no rescaling"],
    ["25\\%", "2500", false, "no rescaling"],
    // Units, text, choices.
    ["15", "15\\mbox{ cm}^2", true, "unit"],
    ["125", "125 \\text{ miles}", true, "unit"],
    ["1000.99", "\\$1,000.99", true, "currency", "boxed-only"],
    ["\\text{North}", "\\text{north}", true, "text"],
    ["\\text{odd}", "\\text{even}", false, "text"],
    ["D", "\\textbf{(D)}", true, "choice"],
    ["D", "(D)", true, "choice"],
    ["D", "\\text{(D)}", true, "choice"],
    ["A", "A, B", false, "two choices"],
    // Structures.
    ["\\{1,2,3\\}", "\\{3,2,1\\}", true, "set"],
    ["12\\text{ and }13", "12, 13", true, "and-list"],
    ["(1,2)", "(2,1)", false, "tuple order"],
    ["1 \\pm \\sqrt{19}", "1+\\sqrt{19}, 1-\\sqrt{19}", true, "pm"],
    ["(2,5]", "(2,5]", true, "interval"],
    ["(2,5]", "[2,5]", false, "interval brackets"],
    ["[0,1) \\cup (2,3]", "(2,3] \\cup [0,1)", true, "union"],
    ["\\begin{pmatrix}1\\\\2\\end{pmatrix}", "\\begin{bmatrix}1\\\\2\\end{bmatrix}", true, "vector"],
    ["\\begin{pmatrix}1&2\\end{pmatrix}", "\\begin{pmatrix}1\\\\2\\end{pmatrix}", false, "transposed"],
    ["\\begin{pmatrix}3\\\\6\\end{pmatrix}", "3\\begin{pmatrix}1\\\\2\\end{pmatrix}", true, "scalar times vector"],
    ["3+4i", "(2+i)^2", true, "complex"],
    ["3+4i", "3-4i", false, "complex"],
    ["31_4", "31", true, "base subscript optional"],
    ["31_4", "13", false, "base converted"],
    // Equations and inequalities.
    ["4", "y=4", true, "single-variable equation"],
    ["y = 3x", "3x - y = 0", true, "equation (CAS)"],
    ["x \\le 2", "2 \\ge x", true, "inequality flipped"],
    ["x<2", "x \\le 2", false, "inequality strictness"],
    ["-1<x<4", "(-1,4)", true, "inequality vs interval"],
    // No canonical form forced.
    ["\\frac{6}{8}", "\\frac34", true, "unreduced fraction"],
];

// Raw model outputs around the answer A.
const templates: Array<[string, (a: string) => string, boolean]> = [
    ["boxed in a sentence", (a) => `Let's work it out step by step.\nCombining the results above, we get $\\boxed{${a}}$. This checks out.`, true],
    ["last box wins", (a) => `A first attempt gives \\boxed{999}, which is wrong.\nRedoing the arithmetic: \\fbox{${a}}.`, true],
    ["final answer phrase", (a) => `Step 1: compute everything.\nFinal Answer: The final answer is $${a}$. I hope it is correct.`, false],
    ["markdown answer", (a) => `So we are done.\n\n**Answer:** ${a}`, false],
    ["bare answer", (a) => a, false],
];

describe("raw model text: the answer is found and graded by category", () => {
    const rows = cases.flatMap(([gold, answer, equal, category, only]) =>
        templates.filter(([, , boxed]) => only === undefined || boxed).map(([name, wrap]) => [category, name, gold, wrap(answer), answer, equal] as const),
    );
    it.each(rows)("%s, %s: %s", async (_category, _template, gold, text, answer, equal) => {
        const judgement = await grader.judge(gold, text, { extract: true });
        expect(judgement.equal, JSON.stringify(judgement)).toBe(equal);
        expect(judgement.extracted ?? text).toBe(answer);
    });
});

describe("extraction variants", () => {
    it.each([
        ["5", "thus \\boxed 5.", true],
        ["5", "thus \\boxed 4, no wait, \\boxed{5}", true],
        ["4", "thus \\boxed 4, no wait, \\boxed{5}", false],
        ["72", "Natalia sold 48 clips in April and 24 in May.\n#### 72", true],
        ["\\frac{1}{2}", "**Final Answer**: \\(\\frac{1}{2}\\)", true],
        ["3.5", "The answer is 3.5.", true],
        ["3.5", "the answer is: $3.5$", true],
        ["x = 11", "Answer: x = 5+5+1 = 11", true],
    ])("%s in %j → %s", async (gold, text, equal) => {
        expect((await grader.judge(gold, text, { extract: true })).equal).toBe(equal);
    });

    it("keeps a prediction that states no answer whole, so it is compared as it is", async () => {
        expect(await grader.judge("3", "no answer here", { extract: true })).toMatchObject({ equal: false, method: "text" });
        expect(await grader.judge("\\text{no answer here}", "No answer here", { extract: true })).toMatchObject({ equal: true });
    });

    it("without extract compares the text as given", async () => {
        expect((await grader.judge("5", "We find \\boxed{4} then \\boxed{5}")).equal).toBe(false);
        expect((await grader.judge("5", "The answer is 5.")).equal).toBe(false);
        expect((await grader.judge("5", "The answer is 5.", { extract: true })).equal).toBe(true);
    });

    it("an empty gold answer or prediction is never equal, and says why", async () => {
        expect(await grader.judge("", "")).toMatchObject({ equal: false, method: "no-gold" });
        expect(await grader.judge("  ", "5", { extract: true })).toMatchObject({ equal: false, method: "no-gold" });
        expect(await grader.judge(["", " "], "")).toMatchObject({ equal: false, method: "no-gold" });
        expect(await grader.judge("5", " \n", { extract: true })).toMatchObject({ equal: false, method: "no-answer" });
        expect(await grader.judge("5", "")).toMatchObject({ equal: false, method: "no-answer" });
    });
});
