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
    | "truncated" // hit the token limit before any step marker
    | "no-step-marker" // ended (EOS) without a step marker and without an answer
    | "answer-without-box" // an <answer> step with no \boxed{...} (or an unclosed one)
    | "unexpected-output"; // the model wrote its own <output> block instead of letting the code run

/** Text is always the step as it goes into the trajectory: the completion plus its stop string. */
export type ParsedStep =
    | { kind: "code"; text: string; code: string }
    | { kind: "last-code"; text: string; code: string }
    | { kind: "answer"; text: string; answer: string }
    | { kind: "malformed"; text: string; reason: MalformedReason; message: string };

/**
 * Turns a raw completion into a step. Never throws: anything that is not a well-formed step is a `malformed` result
 * (the search scores it as a failed terminal, like the official NO_VALID_CHILD).
 *
 * Rules, in order (the official `rstar_step_result_unwrap` treats any text containing "boxed" as an answer and
 * everything else as code; we key on the markers instead, so a code comment mentioning \boxed stays code):
 * 1. `<answer>` in the text, or stopped at `<end_of_answer>`: an answer step, which needs a `\boxed{}`.
 * 2. stopped at `<end_of_step>`: a code step; at `<end_of_code>`: the last code step.
 * 3. stopped at `<end_of_output>`: malformed (the model wrote its own output).
 * 4. hit the length limit: malformed (truncated).
 * 5. ended without a stop string (EOS): an answer step if it has a `\boxed{}`, else malformed.
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
        case Marker.outputEnd:
            return malformed(text, "unexpected-output", "the model wrote its own <output> block instead of ending the code with <end_of_code>");
        default:
            break;
    }
    if (completion.finishReason === "length") {
        return malformed(text, "truncated", "the completion hit the token limit before any step marker");
    }
    if (/\\(?:boxed|fbox)\b/.test(text)) return answerStep(text);
    return malformed(text, "no-step-marker", "the completion ended without <end_of_step>, <end_of_code> or an answer");
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
