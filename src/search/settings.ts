import type { PromptTemplateName } from "../steps/index.js";

export type SearchAlgorithm = "mcts" | "beam" | "best-of-n" | "greedy";

/**
 * Where a terminal answer's reward comes from: the grader against the gold answer (training data, official
 * `is_sampling: True`), the reward model's score of the full solution (inference), or nothing (value 0).
 */
export type TerminalReward = "ground-truth" | "reward-model" | "none";

/** How the final answer of a problem is chosen from its terminal answers. */
export type AnswerSelection = "value" | "majority" | "weighted";

/** Every knob of a search. Presets fill them all; the command line and config files override any of them. */
export interface SearchSettings {
    algorithm: SearchAlgorithm;
    /** "sft" for models trained on the rStar format, "bootstrap" (few-shot) for instruction-tuned models. */
    prompt: PromptTemplateName;
    /** MCTS rollouts per problem (official `iterations`). */
    rollouts: number;
    /** Candidate steps requested per expansion (official `n_generate_sample`); samples per beam in beam search. */
    candidates: number;
    /** Exploration constant c in Q + c·sqrt(ln N_parent / N). */
    cPuct: number;
    /** Deepest step; a non-terminal node deeper than this ends as "too deep". */
    maxDepth: number;
    temperature: number;
    topP: number;
    /** @unit tokens per step */
    maxTokens: number;
    stop: string[];
    /** Consecutive code errors that end a trajectory (official `errors_threshold`). */
    errorThreshold: number;
    terminalReward: TerminalReward;
    /** Score each new child with the reward model and use it as its initial value (official `update_leaf_value`). */
    leafValue: boolean;
    positiveReward: number;
    negativeReward: number;
    /** Beam search: beams kept per depth. */
    beamWidth: number;
    /** Best-of-N: full solutions sampled per problem. */
    samples: number;
    /** MCTS rollouts of one tree in flight at once (virtual loss). 1 = the sequential official algorithm. */
    parallelRollouts: number;
    virtualLoss: number;
    answerSelection: AnswerSelection;
    /** Majority and weighted votes count only the k highest-valued answers; 0 = all. */
    voteTopK: number;
    /**
     * Per-program sandbox limit, wall clock and CPU time. The official per-program limit is 30 s (`TIMEOUT_SECONDS` in
     * tools/python_tool.py:15, applied at :162); the 60 s of constants.py:1 wraps it (agents/tree.py:127) and bounds
     * one tree's whole expansion (solver.py:122), so a single program meets 30 s first. @unit ms
     */
    codeTimeoutMs: number;
    /** Base seed; every request's seed derives from it, the problem and the node, so order does not matter. */
    seed: number;
}

/** The official per-program code limit (tools/python_tool.py:15). @unit ms */
export const OFFICIAL_CODE_TIMEOUT_MS = 30_000;

export const BASE_SETTINGS: SearchSettings = {
    algorithm: "mcts",
    prompt: "sft",
    rollouts: 16,
    candidates: 12,
    cPuct: 2,
    maxDepth: 16,
    temperature: 1,
    topP: 1,
    maxTokens: 2048,
    stop: ["<end_of_step>", "<end_of_code>", "<end_of_answer>"],
    errorThreshold: 1,
    terminalReward: "ground-truth",
    leafValue: false,
    positiveReward: 1,
    negativeReward: -1,
    beamWidth: 8,
    samples: 8,
    parallelRollouts: 1,
    virtualLoss: 1,
    answerSelection: "value",
    voteTopK: 0,
    codeTimeoutMs: OFFICIAL_CODE_TIMEOUT_MS,
    seed: 0,
};
