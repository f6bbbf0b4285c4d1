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
