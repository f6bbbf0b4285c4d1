import { describe, expect, it } from "vitest";
import { analyze } from "./answer.js";
import { extractAnswer, finalAnswer } from "./extract.js";
import { equalFast } from "./grader.js";
import { normalizeAnswer } from "./normalize.js";
import { parseLatex } from "./parser.js";
import { parseDecimal, rat, roundUnits } from "./rational.js";

const kind = (s: string): string => analyze(s).node.t;

describe("rational arithmetic", () => {
    it("parses decimals exactly and rounds half away from zero", () => {
        expect(parseDecimal("0.285714")).toEqual(rat(285714n, 1000000n));
        expect(roundUnits(rat(2n, 7n), 6)).toBe(285714n);
        expect(roundUnits(rat(-5n, 10n), 0)).toBe(-1n);
    });
});

describe("normalisation", () => {
    it.each([
        ["$\\left( 3, \\dfrac{\\pi}{2} \\right)$", "( 3, \\frac{\\pi}{2} )"],
        ["12,\\!500", "12,500"],
        ["1{,}000", "1,000"],
        ["90^\\circ", "90"],
        ["\\$5.00", "5.00"],
        ["5 \\text{ cm}^2", "5"],
        ["125 miles", "125"],
        ["9.", "9"],
        ["28 percent", "28\\%"],
        ["\\text{North}", "North"],
    ])("%s → %s", (input, output) => {
        expect(normalizeAnswer(input).text).toBe(output);
    });
});

describe("parser", () => {
    it("builds typed trees", () => {
        expect(parseLatex("2\\frac{1}{3}")).toMatchObject({ t: "add" });
        expect(parseLatex("\\frac12")).toMatchObject({ t: "div" });
        expect(parseLatex("(2,5]")).toMatchObject({ t: "seq", open: "(", close: "]" });
        expect(parseLatex("\\{1,2\\}")).toMatchObject({ t: "set" });
        expect(parseLatex("x \\le 2")).toMatchObject({ t: "rel", ops: ["<="] });
        expect(parseLatex("\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}")).toMatchObject({ t: "mat" });
        expect(parseLatex("1 \\pm \\sqrt{2}")).toMatchObject({ t: "pm" });
        expect(parseLatex("\\sin^2 x")).toMatchObject({ t: "pow", base: { t: "fn", name: "sin" } });
        expect(parseLatex("\\log_2 8")).toMatchObject({ t: "fn", name: "log" });
        expect(parseLatex("5!")).toMatchObject({ t: "fn", name: "factorial" });
        expect(parseLatex("[0,1) \\cup (2, \\infty)")).toMatchObject({ t: "union" });
    });
    it("classifies answers", () => {
        expect(kind("31_4")).toBe("base");
        expect(kind("\\textbf{(D)}")).toBe("choice");
        expect(kind("\\text{Evelyn}")).toBe("text");
        expect(kind("seven")).toBe("num");
        expect(kind("\\frac{1}{2")).toBe("text");
    });
    it("is bounded: deep nesting and long input fall back to text without throwing", () => {
        expect(kind("(".repeat(5000) + "1" + ")".repeat(5000))).toBe("text");
        expect(kind("1+".repeat(3000) + "1")).toBe("text");
        expect(kind("\\frac{".repeat(200) + "1" + "}{2}".repeat(200))).toBe("text");
    });
});

describe("extraction", () => {
    it.each([
        ["so the answer is \\boxed{\\frac{1}{2}}.", "\\frac{1}{2}"],
        ["\\boxed{1} then \\boxed{\\{1, \\{2\\}\\}}", "\\{1, \\{2\\}\\}"],
        ["first \\boxed{3} and finally \\fbox{4}", "4"],
        ["thus \\boxed 7.", "7"],
        ["truncated \\boxed{5} and \\boxed{6", "5"],
        ["Final Answer: The final answer is $28 \\%$. I hope it is correct.", "28 \\%"],
        ["The answer is 3.5.", "3.5"],
        ["nothing here", null],
        ["**Final Answer:** $\\frac{1}{2}$", "\\frac{1}{2}"],
        ["**Answer**: 42", "42"],
        ["She sold 48 clips.\n#### 72", "72"],
        ["#### Step 2: add them\nwe get 5", null],
        ["To check the answer we add 2 and 3", null],
        ["The answer isn't 4. Final answer: 5", "5"],
    ])("%s", (text, answer) => {
        expect(extractAnswer(text)).toBe(answer);
    });

    it.each([
        ["so \\boxed{3}.", { answer: "3", source: "boxed" }],
        ["The answer is 3.", { answer: "3", source: "phrase" }],
        ["  \\frac{1}{2} ", { answer: "\\frac{1}{2}", source: "whole" }],
        ["no answer stated", { answer: "no answer stated", source: "whole" }],
        [" \n ", null],
        ["", null],
    ])("finalAnswer(%j)", (text, expected) => {
        expect(finalAnswer(text)).toEqual(expected);
    });
});

describe("fast path (no Python)", () => {
    const cases: Array<[string, string, boolean, string]> = [
        // integers, big integers, decimals, fractions
        ["-5", "-5", true, "integer"], ["987654321", "987654322", false, "big integer"],
        ["123456789012345678901234567890", "123456789012345678901234567890", true, "big integer"],
        ["\\frac{1}{2}", "0.5", true, "fraction/decimal"], ["\\frac{2}{7}", "0.285714", true, "decimal 6 places"],
        ["\\frac{2}{7}", "0.29", false, "decimal 6 places"], ["2", "2.0003", false, "decimal"], ["1000", "1000.0", true, "decimal"],
        ["\\frac{6}{8}", "\\frac34", true, "fraction"], ["2\\frac{1}{3}", "\\frac{7}{3}", true, "mixed number"],
        ["\\tfrac{1}{3}", "1/3", true, "fraction"], ["0.4", ".4", true, "decimal"], ["9.", "9", true, "trailing period"],
        ["−3", "-3", true, "unicode minus"], ["+3", "3", true, "leading plus"], ["seven", "7", true, "number word"],
        // separators
        ["7425000", "7,425,000", true, "thousands"], ["12500", "12,\\!500", true, "thousands"], ["1000", "1{,}000", true, "thousands"],
        ["3,4", "4,3", true, "list"], ["34", "3,4", false, "list"], ["1000.99", "1,000.99", true, "thousands"],
        // percent
        ["25\\%", "0.25", true, "percent"], ["25\\%", "\\frac{1}{4}", true, "percent"], ["25\\%", "25", true, "percent dropped"],
        ["25", "25\\%", true, "percent added"], ["0.4", "40", false, "no rescaling"], ["25\\%", "2500", false, "no rescaling"],
        ["28\\%", "28 percent", true, "percent word"],
        // scientific notation
        ["3 \\times 10^{5}", "300000", true, "scientific"], ["1.5 \\times 10^{-8}", "2 \\times 10^{-8}", false, "scientific small"],
        ["6.02 \\times 10^{23}", "602000000000000000000000", true, "scientific"],
        // units, degrees, currency
        ["90^\\circ", "90", true, "degrees"], ["15\\mbox{ cm}^2", "15", true, "unit"], ["\\$1,000.99", "1000.99", true, "currency"],
        ["125 \\text{ miles}", "125", true, "unit"], ["10", "10 \\text{ m}", true, "unit"],
        // text and choices
        ["\\text{North}", "north", true, "text"], ["\\text{Evelyn}", "Evelyn", true, "text"], ["\\text{odd}", "\\text{even}", false, "text"],
        ["D", "(D)", true, "choice"], ["D", "\\text{(D)}", true, "choice"], ["D", "\\textbf{(D)}", true, "choice"], ["A", "A, B", false, "choice"],
        ["C", "D", false, "choice"], ["(B)", "\\textbf{(B) }13", true, "choice"],
        // structures
        ["(2,5]", "[2,5]", false, "interval"], ["(2,5]", "(2,5]", true, "interval"], ["\\{1,2,3\\}", "\\{3,2,1\\}", true, "set"],
        ["(1,2)", "(2,1)", false, "tuple"], ["(1,2)", "1,2", false, "tuple vs set"], ["\\emptyset", "\\varnothing", true, "empty set"],
        ["[0,1) \\cup (2,3]", "(2,3] \\cup [0,1)", true, "union"], ["[0,1) \\cup (2,3]", "[0,1) \\cup [2,3]", false, "union"],
        ["\\left( 3, \\frac{1}{2} \\right)", "(3, 0.5)", true, "tuple"], ["(-\\infty, 2]", "(-\\infty,2]", true, "infinity"],
        ["\\infty", "-\\infty", false, "infinity"],
        ["\\begin{pmatrix}1\\\\2\\end{pmatrix}", "\\begin{bmatrix}1\\\\2\\end{bmatrix}", true, "matrix"],
        ["\\begin{pmatrix}1&2\\end{pmatrix}", "\\begin{pmatrix}1\\\\2\\end{pmatrix}", false, "matrix transposed"],
        ["\\begin{pmatrix}3\\\\6\\end{pmatrix}", "3\\begin{pmatrix}1\\\\2\\end{pmatrix}", true, "scalar times vector"],
        ["\\begin{pmatrix}6 & 8 \\\\ 10 & 12\\end{pmatrix}", "\\begin{pmatrix}1 & 2 \\\\ 3 & 4\\end{pmatrix} + \\begin{pmatrix}5 & 6 \\\\ 7 & 8\\end{pmatrix}", true, "matrix sum"],
        ["\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}", "\\begin{pmatrix}1&3\\\\2&4\\end{pmatrix}^T", true, "transpose"],
        // complex
        ["(2+i)^2", "3+4i", true, "complex"], ["3+4i", "3-4i", false, "complex"], ["\\frac{1}{i}", "-i", true, "complex"],
        // bases
        ["31_4", "31", true, "base"], ["31_4", "13", false, "base"], ["204_5", "204_{5}", true, "base"], ["31_4", "31_5", false, "base"],
        // equations, inequalities
        ["y=4", "4", true, "equation"], ["4", "y=4", true, "equation"], ["7 = 11a+c", "11a+c", false, "equation"],
        ["x = 11", "x = 5+5+1 = 11", true, "equation chain"], ["11", "x \\approx 11", true, "approx"],
        ["x \\le 2", "2 \\ge x", true, "inequality"], ["x<2", "x \\le 2", false, "inequality"], ["x > 5", "x < 5", false, "inequality"],
        ["-1<x<4", "(-1,4)", true, "inequality vs interval"], ["x \\ge 2", "[2, \\infty)", true, "inequality vs interval"],
        ["x \\neq 3", "x != 3", true, "not equal"], ["(p,q)=(3,2)", "(3,2)", true, "tuple equation"],
        // ± and sets
        ["1 \\pm \\sqrt{19}", "1 \\pm \\sqrt{19}", true, "pm"], ["\\pm 2021", "2021", false, "pm"], ["\\pm 2", "2, -2", true, "pm"],
        ["12\\text{ and }13", "12, 13", true, "and"], ["19, 46, and 82", "19, 46, \\text{ and } 82", true, "and"],
        // numbers that are clearly different (float refutation, no CAS)
        ["2", "\\frac{1+\\sqrt{5}}{2}", false, "irrational"],
        ["\\sqrt{4}", "2", true, "perfect square"], ["\\sqrt[3]{-8}", "-2", true, "cube root"], ["x+2n+1", "x+1", false, "symbolic"],
        ["5!", "120", true, "factorial"], ["\\binom{5}{2}", "10", true, "binomial"],
    ];
    it.each(cases)("%s vs %s → %s (%s)", (gold, pred, expected) => {
        expect(equalFast(gold, pred)).toBe(expected);
    });
    it("returns undefined when only the CAS can decide", () => {
        expect(equalFast("3\\sqrt{13}", "\\sqrt{117}")).toBeUndefined();
        expect(equalFast("\\frac{x+2}{7}", "\\frac{x}{7}+\\frac{2}{7}")).toBeUndefined();
    });
    it("accepts a list of gold answers and never throws on junk", () => {
        expect(equalFast(["3", "x=3"], "x = 3")).toBe(true);
        expect(equalFast("", "")).toBe(false);
        expect(equalFast("\\frac{", "}")).toBe(false);
        expect(equalFast("1", "\u0000\\\\\\")).toBe(false);
        expect(equalFast("2^{100000000}", "2^{100000001}")).not.toBe(true);
    });
});
