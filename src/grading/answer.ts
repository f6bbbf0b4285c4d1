/**
 * From an answer string to its typed form: normalisation, then (in order) base-n numerals, choice letters, number
 * words, text answers, and the LaTeX parser; a string the parser rejects becomes a text answer.
 */
import type { Node } from "./ast.js";
import { MAX_ANSWER_CHARS, canonicalText, normalizeAnswer } from "./normalize.js";
import { ParseError, parseLatex } from "./parser.js";
import { rat } from "./rational.js";

export interface Answer {
    /** The typed tree. */
    node: Node;
    /** Case- and space-insensitive text of the answer, for text comparison. */
    text: string;
    /** Whether the LaTeX parser produced the tree (false for text fall-backs and over-long input). */
    parsed: boolean;
}

const NUMBER_WORDS: Record<string, number> = {
    zero: 0, one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10,
    eleven: 11, twelve: 12, thirteen: 13, fourteen: 14, fifteen: 15, sixteen: 16, seventeen: 17, eighteen: 18,
    nineteen: 19, twenty: 20, thirty: 30, forty: 40, fifty: 50, sixty: 60, seventy: 70, eighty: 80, ninety: 90,
    hundred: 100, thousand: 1000, none: 0,
};

const KNOWN_WORDS = /\\(?:begin|end)\s*\{[a-zA-Z*]*\}|\\[a-zA-Z]+|\b(?:arcsin|arccos|arctan|sinh|cosh|tanh|sin|cos|tan|cot|sec|csc|log|ln|exp|sqrt|pi|gcd|lcm|max|min)\b/g;

function textAnswer(raw: string): Answer {
    return { node: { t: "text", s: canonicalText(raw) }, text: canonicalText(raw), parsed: false };
}

/** Reads one answer string (already extracted from model text) into its typed form. Never throws. */
export function analyze(raw: string): Answer {
    if (raw.length > MAX_ANSWER_CHARS) return textAnswer(raw.slice(0, MAX_ANSWER_CHARS));
    const text = canonicalText(raw);
    const { text: s, wholeText } = normalizeAnswer(raw);
    if (s === "") return { node: { t: "text", s: "" }, text, parsed: false };

    const base = /^([0-9A-Za-z]+)_\{?\s*(\d{1,2})\s*\}?$/.exec(s);
    if (base) {
        const b = Number(base[2]);
        const digits = (base[1] as string).toUpperCase();
        const valid = b >= 2 && b <= 36 && [...digits].every((ch) => parseInt(ch, 36) < b);
        if (valid && /\d/.test(digits[0] as string)) return { node: { t: "base", digits: digits.replace(/^0+(?=.)/, ""), base: b }, text, parsed: true };
    }

    const single = /^\(?([A-J])\)?$/.exec(s) ?? /^\(([A-Ja-j])\)(?:\s.*)?$/.exec(s);
    if (single) return { node: { t: "choice", letters: [(single[1] as string).toUpperCase()] }, text, parsed: true };
    if (/^\(?[A-E]\)?(?:\s*[,;]?\s*\(?[A-E]\)?)+$/.test(s)) {
        const letters = [...new Set(s.replace(/[^A-E]/g, ""))].sort();
        return { node: { t: "choice", letters }, text, parsed: true };
    }

    const word = NUMBER_WORDS[s.toLowerCase()];
    if (word !== undefined) return { node: { t: "num", v: rat(BigInt(word)) }, text, parsed: true };

    const letters = s.replace(KNOWN_WORDS, " ");
    if ((wholeText && /[a-zA-Z]{2,}/.test(letters)) || /[a-zA-Z]{3,}/.test(letters)) return textAnswer(raw);

    try {
        return { node: simplifyTop(parseLatex(s)), text, parsed: true };
    } catch (error) {
        if (error instanceof ParseError || error instanceof RangeError) return textAnswer(raw);
        return textAnswer(raw);
    }
}

/** `x \in S` → S; a one-item list → the item. */
function simplifyTop(node: Node): Node {
    if (node.t === "rel" && node.ops.length === 1 && node.ops[0] === "in") return node.sides[1] as Node;
    if (node.t === "list" && node.items.length === 1) return node.items[0] as Node;
    return node;
}
