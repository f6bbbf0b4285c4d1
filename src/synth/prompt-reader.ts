import { Marker, sftPrompt } from "../steps/index.js";

export interface ReadPrompt {
    question: string;
    /** The solution so far (what follows the prompt template), possibly empty. */
    partial: string;
    template: "sft" | "bootstrap";
}

const SFT_PREFIX = sftPrompt("").split("\n")[0] + "\n"; // "<|user|>:\n"
const SFT_ASSISTANT = sftPrompt("").slice(SFT_PREFIX.length); // "\n<|assistant|>: Let's think step by step ..."
const BOOTSTRAP_TURN = "Now it is your turn.\nQuestion: ";

/**
 * Takes an rStar prompt apart: the question and the partial solution, for both the SFT template (`sftPrompt`) and the
 * few-shot bootstrap template (`bootstrapPrompt`, whose demonstrations are skipped). Null for any other text.
 */
export function readPrompt(prompt: string): ReadPrompt | null {
    if (prompt.startsWith(SFT_PREFIX)) {
        const end = prompt.indexOf(SFT_ASSISTANT, SFT_PREFIX.length);
        if (end < 0) return null;
        return { question: prompt.slice(SFT_PREFIX.length, end), partial: prompt.slice(end + SFT_ASSISTANT.length), template: "sft" };
    }
    const turn = prompt.lastIndexOf(BOOTSTRAP_TURN);
    if (turn < 0) return null;
    const rest = prompt.slice(turn + BOOTSTRAP_TURN.length);
    const codeAt = rest.indexOf(`\n${Marker.code}`);
    if (codeAt >= 0) return { question: rest.slice(0, codeAt), partial: rest.slice(codeAt + 1), template: "bootstrap" };
    const newline = rest.indexOf("\n");
    if (newline < 0) return { question: rest, partial: "", template: "bootstrap" };
    return { question: rest.slice(0, newline), partial: rest.slice(newline + 1), template: "bootstrap" };
}
