/**
 * Final-answer extraction from raw model text: the last complete `\boxed{…}` / `\fbox{…}` (nested braces balanced,
 * `\boxed 7` accepted), else the last "final answer is …" / "the answer is …" / "Answer: …" phrase.
 */
import { matchBrace } from "./normalize.js";

/** Model outputs longer than this are searched only in their last MAX_TEXT characters. */
export const MAX_TEXT = 200_000;

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

const PHRASES = /(?:final answer|the answer|answer)\s*(?:is|:)\s*:?\s*/gi;

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
    const answer = (sentence?.[1] ?? rest).trim().replace(/[.,;]+$/, "").trim();
    return answer === "" ? null : answer;
}

/** The final answer in a model's text, or null when it gives none. Never throws. */
export function extractAnswer(text: string): string | null {
    if (typeof text !== "string" || text === "") return null;
    const s = text.length > MAX_TEXT ? text.slice(-MAX_TEXT) : text;
    return lastBoxed(s) ?? phraseAnswer(s);
}
