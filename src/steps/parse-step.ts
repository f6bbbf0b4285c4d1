import { extractAnswer } from "../grading/index.js";
import { Marker } from "./markers.js";

/** How a completion ended, as a policy backend reports it. */
export interface CompletionEnding {
    /** The generated text, without the stop string. */
    text: string;
    /** The stop string that ended generation, or null (end-of-sequence token, or the length limit). */
    stop: string | null;
    finishReason: "stop" | "length";
}

export type MalformedReason =
    | "empty" // nothing but whitespace
    | "answer-without-box"; // an <answer> step with no \boxed{...} (or an unclosed one)

/**
 * How a code step ended when it did not end at `<end_of_step>` or `<end_of_code>`: cut at the token limit, ended by
 * the end-of-sequence token, or stopped at `<end_of_output>` (the model wrote its own output block).
 */
export type UnmarkedEnding = "length" | "end-of-sequence" | "end-of-output";

/** Text is always the step as it goes into the trajectory: the completion plus its stop string. */
export type ParsedStep =
    | { kind: "code"; text: string; code: string; unmarked?: UnmarkedEnding }
    | { kind: "last-code"; text: string; code: string; unmarked?: UnmarkedEnding }
    | { kind: "answer"; text: string; answer: string }
    | { kind: "malformed"; text: string; reason: MalformedReason; message: string };

/**
 * Turns a raw completion into a step. Never throws: anything that is not a well-formed step is a `malformed` result
 * (the search scores it as a failed terminal, like the official NO_VALID_CHILD).
 *
 * The official `rstar_step_result_unwrap` (agents/utils.py:124-139) treats any text containing "boxed" as an answer
 * and everything else as code, whatever ended it. We follow it, except that we key on the markers first, so a code
 * step that mentions \boxed in a comment stays code and an `<answer>` step needs a complete `\boxed{}`:
 * 1. `<answer>` in the text, or stopped at `<end_of_answer>`: an answer step, which needs a `\boxed{}`.
 * 2. stopped at `<end_of_step>`: a code step; at `<end_of_code>`: the last code step.
 * 3. empty (only whitespace): malformed. The official code would run it as an empty program and add a node whose
 *    text is empty, so the next request repeats the parent's prompt; we end it instead.
 * 4. anything else (cut at the length limit, ended by end-of-sequence, stopped at `<end_of_output>` or at a stop string
 *    of the user's own): an answer step when it has a `\boxed{}`, otherwise a code step that is run, as officially
 *    (the last code step when it contains `<end_of_code>`), with `unmarked` saying how it ended. A cut-off program
 *    usually fails to run and counts as a code error; one that runs stays in the trajectory.
 */
export function parseStep(completion: CompletionEnding): ParsedStep {
    const text = completion.text + (completion.stop ?? "");
    if (text.trim() === "") return malformed(text, "empty", "the completion is empty");

    if (text.includes(Marker.answer) || completion.stop === Marker.answerEnd) return answerStep(text);

    switch (completion.stop) {
        case Marker.stepEnd:
            return { kind: "code", text, code: extractCode(text) };
        case Marker.codeEnd:
            return { kind: "last-code", text, code: extractCode(text) };
        default:
            break;
    }
    if (/\\(?:boxed|fbox)\b/.test(text)) return answerStep(text);
    const unmarked: UnmarkedEnding =
        completion.stop === Marker.outputEnd ? "end-of-output" : completion.finishReason === "length" ? "length" : "end-of-sequence";
    return { kind: text.includes(Marker.codeEnd) ? "last-code" : "code", text, code: extractCode(text), unmarked };
}

function answerStep(text: string): ParsedStep {
    const answer = extractAnswer(text);
    if (answer === null || !/\\(?:boxed|fbox)\b/.test(text)) {
        return malformed(text, "answer-without-box", "the answer step has no complete \\boxed{...}");
    }
    return { kind: "answer", text, answer };
}

function malformed(text: string, reason: MalformedReason, message: string): ParsedStep {
    return { kind: "malformed", text, reason, message };
}

/**
 * The Python code in a piece of trajectory text: lines after `<code>` up to `<end_of_code>`, with `<end_of_step>`
 * markers removed; all of it when there is no `<code>` marker (the official `extract_program` fallback).
 * Unlike the official parser, code written on the same line right after `<code>` is kept, not dropped.
 */
export function extractCode(text: string): string {
    const cleaned = text.split(Marker.stepEnd).join("");
    if (!cleaned.includes(Marker.code)) return cleaned.split(Marker.codeEnd).join("").trim();
    const blocks: string[] = [];
    let current: string[] | null = null;
    for (const line of cleaned.split("\n")) {
        const codeAt = line.indexOf(Marker.code);
        const endAt = line.indexOf(Marker.codeEnd);
        if (codeAt !== -1) {
            current = [];
            blocks.push("");
            const rest = line.slice(codeAt + Marker.code.length);
            if (rest.trim() !== "") current.push(rest);
        } else if (endAt !== -1) {
            if (current !== null && line.slice(0, endAt).trim() !== "") current.push(line.slice(0, endAt));
            if (current !== null) blocks[blocks.length - 1] = current.join("\n");
            current = null;
            continue;
        } else if (current !== null) {
            current.push(line);
        }
        if (current !== null) blocks[blocks.length - 1] = current.join("\n");
    }
    return blocks.join("\n# ========\n").trim();
}
