/**
 * Final-answer extraction from raw model text: the last complete `\boxed{…}` / `\fbox{…}` (nested braces balanced,
 * `\boxed 7` accepted), else the last answer phrase ("The final answer is …", "the answer is …", "Answer: …",
 * "**Answer:** …", GSM8K's "#### 42"), else (for `finalAnswer`) the whole text.
 */
import { matchBrace } from "./normalize.js";

/** Model outputs longer than this are searched only in their last MAX_TEXT characters. */
export const MAX_TEXT = 200_000;

/** Where `finalAnswer` found the answer: a `\boxed{}`/`\fbox{}`, an answer phrase, or the whole text. */
export type AnswerSource = "boxed" | "phrase" | "whole";

export interface FinalAnswer {
    answer: string;
    source: AnswerSource;
}

function lastBoxed(text: string): string | null {
    const re = /\\(?:boxed|fbox)(?![a-zA-Z])/g;
    const starts: number[] = [];
    for (let m = re.exec(text); m !== null; m = re.exec(text)) starts.push(m.index + m[0].length);
    for (let k = starts.length - 1; k >= 0; k--) {
        let i = starts[k] as number;
        while (text[i] === " ") i++;
        if (text[i] === "{") {
            const close = matchBrace(text, i);
            if (close < 0) continue; // truncated: try an earlier one
            const inner = text.slice(i + 1, close).trim();
            if (inner !== "") return inner;
            continue;
        }
        // `\boxed 7`: the next run up to whitespace, `$` or the end.
        const m = /^[^\s$]+/.exec(text.slice(i));
        if (m) return m[0].replace(/[.,;]+$/, "");
    }
    return null;
}

/**
 * "final answer is", "the answer is", "Answer:", "answer =", with markdown bold around the words or the colon
 * ("**Final Answer:** 5", "**Answer**: 5"); or GSM8K's "#### 42" (only before something that starts like an answer,
 * so a markdown heading "#### Step 2" is not one).
 */
const PHRASES = /(?:\b(?:final\s+answer|answer)\b\s*\**\s*(?:is(?!n['’]t)\b|:|=)\s*:?|^[ \t]*#{4}(?=[ \t]*[-+−$\\\d.(]))[ \t]*(?:\*\*)?\s*/gim;

function phraseAnswer(text: string): string | null {
    let last: RegExpExecArray | null = null;
    PHRASES.lastIndex = 0;
    for (let m = PHRASES.exec(text); m !== null; m = PHRASES.exec(text)) last = m;
    if (last === null) return null;
    let rest = text.slice(last.index + last[0].length).trimStart();
    for (const [open, close] of [["$$", "$$"], ["$", "$"], ["\\(", "\\)"], ["\\[", "\\]"]] as const) {
        if (rest.startsWith(open)) {
            const end = rest.indexOf(close, open.length);
            if (end > 0) return rest.slice(open.length, end).trim() || null;
        }
    }
    rest = rest.split("\n")[0] ?? "";
    // Up to a sentence end (a period followed by a space or the end, not a decimal point).
    const sentence = /^(.*?)(?:\.\s|\.$|$)/.exec(rest);
    const answer = (sentence?.[1] ?? rest).trim().replace(/[.,;]+$/, "").replace(/\*+$/, "").trim();
    return answer === "" ? null : answer;
}

/**
 * The final answer stated in a model's text (last `\boxed{}`/`\fbox{}`, else the last answer phrase), or null when
 * the text states none. Never throws.
 */
export function extractAnswer(text: string): string | null {
    if (typeof text !== "string" || text === "") return null;
    const s = text.length > MAX_TEXT ? text.slice(-MAX_TEXT) : text;
    return lastBoxed(s) ?? phraseAnswer(s);
}

/**
 * The answer to grade in a prediction that may be raw model text: the last `\boxed{}`/`\fbox{}` when there is one,
 * else the last answer phrase, else the whole text (trimmed), so a plain answer such as `\frac{1}{2}` is kept as it is.
 * Null only for empty or blank text. Never throws. `rstar grade` and `grader.judge(…, { extract: true })` use this.
 */
export function finalAnswer(text: string): FinalAnswer | null {
    if (typeof text !== "string") return null;
    const s = text.length > MAX_TEXT ? text.slice(-MAX_TEXT) : text;
    const boxed = lastBoxed(s);
    if (boxed !== null) return { answer: boxed, source: "boxed" };
    const phrase = phraseAnswer(s);
    if (phrase !== null) return { answer: phrase, source: "phrase" };
    const whole = text.trim();
    return whole === "" ? null : { answer: whole, source: "whole" };
}
