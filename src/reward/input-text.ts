import type { RewardItem } from "./types.js";

/**
 * The text a PPM scores: the SFT prompt with the partial solution appended, exactly what the policy saw.
 * Kept byte-identical to `sftPrompt` in src/steps/prompts.ts (steps/ sits on the same layer, so it cannot be
 * imported here; test/reward/input-text.test.ts checks the two agree).
 */
export function ppmInputText(item: RewardItem): string {
    return `<|user|>:\n${item.question}\n<|assistant|>: Let's think step by step and solve the problem with code.${item.partialSolution}`;
}

/** Formats a reward item as the model's input text. */
export type RewardInputFormatter = (item: RewardItem) => string;
