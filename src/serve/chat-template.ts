import { z } from "zod";
import { sftPrompt } from "../steps/index.js";

/** A chat message's content: a string, or OpenAI's array of parts of which only text parts are accepted. */
const contentSchema = z.union([z.string(), z.array(z.looseObject({ type: z.literal("text"), text: z.string() })).min(1)]);

/** OpenAI chat messages; roles other than these (tool, function) are refused. `developer` is OpenAI's newer `system`. */
export const chatMessagesSchema = z
    .array(z.looseObject({ role: z.enum(["system", "developer", "user", "assistant"]), content: contentSchema.nullish() }))
    .min(1);

export type ChatMessages = z.infer<typeof chatMessagesSchema>;

/**
 * The policy's chat template: the SFT prompt it was trained with (`sftPrompt`), which holds one question and the
 * start of the solution. System (and developer) messages are dropped — the policy was trained without one. What is
 * left must be one user message (the question), optionally followed by one assistant message: a partial solution,
 * continued verbatim (as vLLM's `continue_final_message`). Returns the prompt, or a message saying what is wrong.
 */
export function chatPrompt(messages: ChatMessages): { ok: true; prompt: string } | { ok: false; message: string } {
    const turns = messages.filter((message) => message.role !== "system" && message.role !== "developer");
    const text = (content: ChatMessages[number]["content"]) => (typeof content === "string" ? content : (content ?? []).map((part) => part.text).join(""));
    const [first, second, ...rest] = turns;
    if (first === undefined || first.role !== "user" || (second !== undefined && second.role !== "assistant") || rest.length > 0) {
        return {
            ok: false,
            message:
                "the policy was trained on one question per prompt (the SFT prompt): send one user message (the question), optionally followed by one " +
                `assistant message (a partial solution to continue); system messages are dropped. Got roles: ${messages.map((message) => message.role).join(", ")}`,
        };
    }
    const question = text(first.content).trim();
    if (question === "") return { ok: false, message: "the user message is empty: it must hold the question" };
    return { ok: true, prompt: sftPrompt(question, second === undefined ? "" : text(second.content)) };
}
