import { BOOTSTRAP_EXAMPLES, BOOTSTRAP_INSTRUCTIONS } from "./bootstrap-examples.js";

export type PromptTemplateName = "sft" | "bootstrap";

/**
 * The rStar SFT template, exactly as the official trainer formats its inputs (`train/train_SFT.py`):
 * the policy continues after "...with code." with the solution, and a partial solution is appended verbatim.
 *
 * Note: the official search code (`prompt_wrap` with `step_delim`) puts an extra newline after the question;
 * we follow the trainer, which is what the released policies saw.
 */
export function sftPrompt(question: string, partialSolution = ""): string {
    return `<|user|>:\n${question}\n<|assistant|>: Let's think step by step and solve the problem with code.${partialSolution}`;
}

/**
 * The few-shot template for instruction-tuned models that were never trained on the step format
 * (round 1 of self-evolution). Same layout as the official `mcts_prompt.json` + `prompt_wrap`:
 * instructions, demonstrations, then the question and the partial solution; our own text and examples.
 */
export function bootstrapPrompt(question: string, partialSolution = "", examples: readonly string[] = BOOTSTRAP_EXAMPLES): string {
    const header =
        examples.length === 0
            ? []
            : [examples.length === 1 ? "The following is a demonstration example." : `The following are ${examples.length} demonstration examples.`, ...examples];
    return [BOOTSTRAP_INSTRUCTIONS, ...header, `Now it is your turn.\nQuestion: ${question}\n`].join("\n") + partialSolution;
}

export function renderPrompt(template: PromptTemplateName, question: string, partialSolution = ""): string {
    return template === "sft" ? sftPrompt(question, partialSolution) : bootstrapPrompt(question, partialSolution);
}

/** Builds the prompt text for a template, a question and a partial solution (`renderPrompt` is the default). */
export type PromptFormatter = (template: PromptTemplateName, question: string, partialSolution: string) => string;

/**
 * The bootstrap prompt for an instruction-tuned model through its own chat template: the instructions, the
 * demonstrations and the question as the user's message, the partial solution as the start of the assistant's reply
 * (the model continues it), the step markers as plain text in both. `render(user, assistantPrefix)` applies the
 * template (e.g. a GGUF's `tokenizer.chat_template`). The SFT template is left as it is: rStar-trained policies saw
 * it raw.
 */
export function chatPromptFormatter(render: (user: string, assistantPrefix: string) => string): PromptFormatter {
    return (template, question, partialSolution) => (template === "bootstrap" ? render(bootstrapPrompt(question).trimEnd(), partialSolution) : renderPrompt(template, question, partialSolution));
}
