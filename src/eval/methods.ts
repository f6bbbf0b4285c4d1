import { RstarError } from "../errors/index.js";
import { PRESETS, type SearchSettings } from "../search/index.js";
import { STEP_STOPS } from "../steps/index.js";

/** An evaluation method: `greedy`, `maj@K`, `bon@K`, `beam` or `mcts`. */
export interface EvalMethod {
    name: "greedy" | "maj" | "bon" | "beam" | "mcts";
    /** Trajectories for maj@K and bon@K. */
    k: number | null;
    /** As written: "maj@8". */
    label: string;
}

export function parseMethod(text: string): EvalMethod {
    const match = /^(greedy|beam|mcts)$|^(maj|bon)@([1-9][0-9]*)$/.exec(text.trim());
    if (match === null) throw new RstarError("INVALID_ARGUMENT", `--method must be greedy, maj@K, bon@K, beam or mcts (K a positive integer), got "${text}"`);
    if (match[1] !== undefined) return { name: match[1] as EvalMethod["name"], k: null, label: match[1] };
    const k = Number(match[3]);
    return { name: match[2] as "maj" | "bon", k, label: `${match[2]}@${k}` };
}

/** The preset a method starts from (flags and --config override it). */
export function methodPreset(method: EvalMethod): string {
    switch (method.name) {
        case "greedy":
            return "greedy";
        case "maj":
        case "bon":
            return "best-of-n";
        case "beam":
            return "eval-beam";
        case "mcts":
            return "eval-mcts";
    }
}

/** Sampling temperature of the shipped tiny policy's sampled methods (why: methodSettings). */
const SHIPPED_SAMPLING_TEMPERATURE = 0.5;

/**
 * The method's settings on top of its preset. `shippedPolicy` adapts them to the shipped tiny policy, which writes
 * one step per request in a 1,024-token context (as the demo always did): step stops, 256 tokens a step, 16 steps,
 * for MCTS 8 rollouts x 4 candidates, and sampling at temperature 0.5, as `rstar evolve --preset synthetic` evaluates
 * it: at 1 its samples fall far below its greedy path (one sample 44.9% against 59.0% on the held-out test split;
 * at 0.5, 56.8%; docs/evolve.md).
 */
export function methodSettings(method: EvalMethod, shippedPolicy: boolean, presetName?: string): SearchSettings {
    const preset = PRESETS[presetName ?? methodPreset(method)];
    if (preset === undefined) throw new RstarError("INVALID_ARGUMENT", `unknown preset "${presetName}"`);
    const settings: SearchSettings = { ...preset.settings, stop: [...preset.settings.stop] };
    if (method.name === "maj") Object.assign(settings, { samples: method.k, terminalReward: "none", leafValue: false, answerSelection: "majority", voteTopK: 0 });
    if (method.name === "bon") Object.assign(settings, { samples: method.k, terminalReward: "reward-model", leafValue: false, answerSelection: "value" });
    if (shippedPolicy) {
        Object.assign(settings, { stop: [...STEP_STOPS], maxTokens: 256 });
        if (method.name === "greedy") settings.maxDepth = 16;
        if (method.name === "mcts") Object.assign(settings, { rollouts: 8, candidates: 4 });
        if (settings.temperature > 0) settings.temperature = SHIPPED_SAMPLING_TEMPERATURE;
    }
    return settings;
}

/** Evaluation never lets the gold answer into selection: terminal rewards come from the reward model or nothing. */
export function checkEvalSettings(settings: SearchSettings): void {
    if (settings.terminalReward === "ground-truth") {
        throw new RstarError(
            "CONFIG_INVALID",
            "evaluation never lets the gold answer choose: --terminal-reward ground-truth is refused (use reward-model or none; answers are graded after selection)",
        );
    }
}
