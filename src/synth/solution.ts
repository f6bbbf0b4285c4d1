import { Marker, outputSuffix } from "../steps/index.js";
import { toPython } from "./expression.js";
import { stepCode, type PlanStep, type SolutionPlan } from "./plan.js";

/**
 * The text of code step `index` (0-based) exactly as a policy trained on the format writes it, stop marker included:
 * the first step opens `<code>`; every step is `\n# Step k: reasoning\ncode\n<end_of_step>`.
 */
export function codeStepText(index: number, step: Pick<PlanStep, "variable" | "expression">, comment: string, opensCode = index === 0): string {
    return `${opensCode ? Marker.code : ""}\n# Step ${index + 1}: ${comment}\n${stepCode(step)}\n${Marker.stepEnd}`;
}

/** The last code step: prints the final answer and closes the code block. */
export function printStepText(expression: string, opensCode = false): string {
    return `${opensCode ? Marker.code : ""}\n# Now print the final answer\nprint(${expression})\n${Marker.codeEnd}`;
}

/** The answer step written after the output block. */
export function answerStepText(sentence: string): string {
    return `\n${Marker.answer}${sentence}${Marker.answerEnd}`;
}

/**
 * The reference solution for a plan, as one trajectory: code steps, the print step, the output block the sandbox
 * appends (`outputSuffix`), and the answer step. `sftPrompt(question) + referenceSolution(plan)` is an SFT example.
 */
export function referenceSolution(plan: SolutionPlan): string {
    return referenceTrajectory(plan).join("");
}

/** The reference solution cut into the pieces a search tree holds: each step text, the output block with the print step. */
export function referenceTrajectory(plan: SolutionPlan): string[] {
    const steps = plan.steps.map((step, index) => codeStepText(index, step, step.comment));
    const value = String(plan.answer);
    return [...steps, printStepText(toPython(plan.final), steps.length === 0) + outputSuffix(value), answerStepText(plan.answerSentence(value))];
}
