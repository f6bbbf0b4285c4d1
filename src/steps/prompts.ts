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
