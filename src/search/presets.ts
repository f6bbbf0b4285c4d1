import { RstarError } from "../errors/index.js";
import { BASE_SETTINGS, OFFICIAL_CODE_TIMEOUT_MS, type SearchSettings } from "./settings.js";

export interface Preset {
    name: string;
    description: string;
    /** Where each value comes from. */
    provenance: string;
    settings: SearchSettings;
}

const official = "microsoft/rStar, branch rStar-math";
/** Every preset names its code limit; the official one is per program, whatever the configuration. */
const codeLimit = `code timeout 30 s per program (${official} rstar_deepthink/tools/python_tool.py:15)`;

/** The official configurations, reproduced. Values not named in the official file keep BASE_SETTINGS. */
export const PRESETS: Record<string, Preset> = {
    bootstrap: {
        name: "bootstrap",
        description: "Round 1: terminal-guided MCTS with a few-shot prompt for an instruction-tuned model (training data).",
        provenance:
            `${official} config/sample_mcts.yaml (temperature 0.7, errors_threshold 2, 12 candidates, stops incl. <end_of_output>, ` +
            "max_depth 16, c_puct 2, max_tokens 2048, 2 few-shot examples, no value model); rollouts 8 as in the paper " +
            "(rStar-Math, §4.1: 8 rollouts in round 1); the repo's config uses 48; " + codeLimit + ".",
        settings: {
            ...BASE_SETTINGS,
            prompt: "bootstrap",
            rollouts: 8,
            candidates: 12,
            temperature: 0.7,
            errorThreshold: 2,
            stop: ["<end_of_step>", "<end_of_code>", "<end_of_output>", "<end_of_answer>"],
            terminalReward: "ground-truth",
            leafValue: false,
            codeTimeoutMs: OFFICIAL_CODE_TIMEOUT_MS,
        },
    },
    sample: {
        name: "sample",
        description: "Rounds 2-4: MCTS with the SFT policy, terminal reward from the gold answer, PPM leaf values.",
        provenance:
            `${official} config/sft_sample_mcts.yaml (temperature 1, errors_threshold 1, 12 candidates, update_leaf_value, ` +
            "need_value_func); rollouts 16 as in the paper for rounds 2-4; the repo's config uses 48; " + codeLimit + ".",
        settings: { ...BASE_SETTINGS, rollouts: 16, candidates: 12, temperature: 1, errorThreshold: 1, terminalReward: "ground-truth", leafValue: true, codeTimeoutMs: OFFICIAL_CODE_TIMEOUT_MS },
    },
    "eval-mcts": {
        name: "eval-mcts",
        description: "Inference: MCTS guided by the PPM (leaf values and terminal rewards from the reward model).",
        provenance: `${official} config/sft_eval_mcts.yaml (iterations 12, n_generate_sample 32, temperature 1, errors_threshold 1, update_leaf_value, is_sampling False); the README suggests 8 rollouts x 16 candidates to save GPU time; ${codeLimit}.`,
        settings: { ...BASE_SETTINGS, rollouts: 12, candidates: 32, temperature: 1, errorThreshold: 1, terminalReward: "reward-model", leafValue: true, codeTimeoutMs: OFFICIAL_CODE_TIMEOUT_MS },
    },
    "eval-beam": {
        name: "eval-beam",
        description: "Inference: step-level beam search ranked by the PPM.",
        provenance: `${official} config/sft_eval_bs.yaml (step_beam_width 8, n_generate_sample 8, temperature 1, errors_threshold 1, max_depth 16); ${codeLimit}.`,
        settings: { ...BASE_SETTINGS, algorithm: "beam", beamWidth: 8, candidates: 8, temperature: 1, errorThreshold: 1, terminalReward: "reward-model", leafValue: true, codeTimeoutMs: OFFICIAL_CODE_TIMEOUT_MS },
    },
    "best-of-n": {
        name: "best-of-n",
        description: "Inference: N full solutions sampled step by step, the answer chosen by the reward model (or a vote).",
        provenance: `rStar-Math paper, Table 'best-of-N with the PPM'; sampling settings as sft_eval_mcts.yaml; ${codeLimit}.`,
        settings: { ...BASE_SETTINGS, algorithm: "best-of-n", samples: 8, candidates: 1, temperature: 1, errorThreshold: 1, terminalReward: "reward-model", codeTimeoutMs: OFFICIAL_CODE_TIMEOUT_MS },
    },
    greedy: {
        name: "greedy",
        description: "Pass@1: one greedy solution, the whole code block in one request, then the answer.",
        provenance: `${official} config/sft_eval_greedy.yaml (temperature 0, n 1, errors_threshold 3, stops <end_of_code>/<end_of_answer>, max_depth 2, max_tokens 4096, seed 42); ${codeLimit}.`,
        settings: {
            ...BASE_SETTINGS,
            algorithm: "greedy",
            rollouts: 1,
            candidates: 1,
            temperature: 0,
            errorThreshold: 3,
            stop: ["<end_of_code>", "<end_of_answer>"],
            maxDepth: 2,
            maxTokens: 4096,
            terminalReward: "none",
            seed: 42,
            codeTimeoutMs: OFFICIAL_CODE_TIMEOUT_MS,
        },
    },
};

export function presetNamed(name: string): Preset {
    const preset = PRESETS[name];
    if (preset === undefined) {
        throw new RstarError("INVALID_ARGUMENT", `unknown preset "${name}"; choose one of ${Object.keys(PRESETS).join(", ")}`);
    }
    return preset;
}
