/** The rStar-Math step markers, as the official implementation and its trained models use them. */
export const Marker = {
    stepEnd: "<end_of_step>",
    code: "<code>",
    codeEnd: "<end_of_code>",
    output: "<output>",
    outputEnd: "<end_of_output>",
    answer: "<answer>",
    answerEnd: "<end_of_answer>",
} as const;

export type MarkerText = (typeof Marker)[keyof typeof Marker];

/** Every marker, in vocabulary order (tiny-model tokenizers make each one token). */
export const ALL_MARKERS: readonly MarkerText[] = Object.values(Marker);

/**
 * Stop strings for step-by-step generation with a model trained on the format
 * (official `sft_sample_mcts.yaml` / `sft_eval_mcts.yaml`).
 */
export const STEP_STOPS: readonly string[] = [Marker.stepEnd, Marker.codeEnd, Marker.answerEnd];

/**
 * Stop strings for the few-shot bootstrap (official `sample_mcts.yaml`): an instruction-tuned model that was
 * never trained on the format may write its own `<output>`, so that is a stop too.
 */
export const BOOTSTRAP_STOPS: readonly string[] = [Marker.stepEnd, Marker.codeEnd, Marker.outputEnd, Marker.answerEnd];

/** Separator the official code puts between a code block and its output (`step_delim`). */
export const STEP_DELIMITER = "\n";

/**
 * Which stop string most likely ended a step when the server did not say (llama.cpp's server, Ollama): an answer ends
 * at `<end_of_answer>`, the code step that prints the answer (the official "Now print the final answer" comment, or a
 * final `print(...)` line) at `<end_of_code>`, any other code step at `<end_of_step>`. Returns one of `candidates`.
 */
export function inferStepStop(text: string, candidates: readonly string[]): string | null {
    const pick = (stop: string) => (candidates.includes(stop) ? stop : null);
    if (text.includes(Marker.answer) || /\\(?:boxed|fbox)\b/.test(text)) return pick(Marker.answerEnd) ?? candidates[0] ?? null;
    const lastLine = text.trimEnd().split("\n").pop() ?? "";
    if (/Now print the final answer/i.test(text) || /^\s*print\(/.test(lastLine)) return pick(Marker.codeEnd) ?? pick(Marker.stepEnd) ?? candidates[0] ?? null;
    return pick(Marker.stepEnd) ?? candidates[0] ?? null;
}
