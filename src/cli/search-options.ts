import { Option, type Command } from "commander";
import { readFileSync } from "node:fs";
import { InputError, RstarError } from "../errors/index.js";
import {
    BASE_SETTINGS,
    PRESETS,
    describeSettingsIssue,
    partialSearchSettingsSchema,
    presetNamed,
    searchSettingsSchema,
    searchSettingsShape,
    type SearchSettings,
} from "../search/index.js";
import { GPU_CHOICES } from "../llm/index.js";
import { STEP_STOPS } from "../steps/index.js";
import { parseJson } from "../util/index.js";

/** Flags shared by `rstar search` and `rstar solve`: where the policy is, and every search setting. */
export function addSearchOptions(command: Command, defaultPresetHelp?: string): Command {
    return command
        .option("--policy <model.gguf>", "a local GGUF policy (any llama.cpp model, e.g. a quantised Qwen2.5-Math-7B-Instruct) run in-process by llama.cpp, on the GPU when there is one; default: the shipped tiny policy")
        .option("--policy-url <url...>", "policy server base URL(s) as OpenAI clients take them, e.g. http://127.0.0.1:8000/v1 (several: balanced by load); default: the shipped tiny policy through llama.cpp")
        .option("--model <name>", "model name on the policy server")
        .option("--ppm <dir>", "reward model: a PPM directory (any GGUF backbone, value_head.safetensors, value_head.json) run locally by llama.cpp; default: the shipped PPM")
        .addOption(new Option("--gpu <api>", "llama.cpp compute for --policy and --ppm: auto (node-llama-cpp's detection, else the CPU; models under 64 MiB stay on the CPU), off, or one API (default: auto; off for the shipped models)").choices(GPU_CHOICES))
        .option("--gpu-layers <n>", "layers offloaded to the GPU: a number, or max (default: as many as fit, all for a model that fits)", gpuLayers)
        .option("--no-chat-template", "send the bootstrap prompt to --policy raw, not through the GGUF's chat template")
        .option("--reward-url <url...>", "reward model on a server with vLLM's pooling API (with --value-head for a PPM backbone, or --prm)")
        .option("--reward-model <name>", "model name on the reward server")
        .option("--value-head <file>", "the PPM's value head (safetensors), applied here to the last token's hidden state from --reward-url")
        .option("--prm", "--reward-url serves an off-the-shelf process reward model (e.g. Qwen2.5-Math-PRM-7B) that scores steps itself")
        .addOption(new Option("--prm-aggregate <how>", "combine a PRM's per-step scores").choices(["last", "min", "product", "mean"]))
        .option("--threads <n>", "llama.cpp threads per context for the shipped models (default: cores - 1, at least 1); the policy runs cores / threads contexts (at most 4)", integer("--threads"))
        .addOption(new Option("--preset <name>", `search preset (see \`rstar search --list-presets\`)${defaultPresetHelp === undefined ? "" : `; default: ${defaultPresetHelp}`}`).choices(Object.keys(PRESETS)))
        .option("--config <file>", "JSON file of search settings (camelCase keys as in --list-presets --json); flags override it")
        .addOption(new Option("--algorithm <name>", "search algorithm").choices(["mcts", "beam", "best-of-n", "greedy"]))
        .addOption(new Option("--prompt <template>", "prompt template: sft (rStar-trained models) or bootstrap (few-shot)").choices(["sft", "bootstrap"]))
        .option("--rollouts <n>", "MCTS rollouts per problem", integer("--rollouts"))
        .option("--candidates <n>", "candidate steps per expansion (samples per beam)", integer("--candidates"))
        .option("--c-puct <c>", "exploration constant c in Q + c*sqrt(ln N_parent / N)", number("--c-puct"))
        .option("--max-depth <n>", "deepest step before a trajectory ends as too deep", integer("--max-depth"))
        .option("--temperature <t>", "sampling temperature (0 = greedy)", number("--temperature"))
        .option("--top-p <p>", "nucleus sampling mass in (0, 1]", number("--top-p"))
        .option("--max-tokens <n>", "most tokens per step", integer("--max-tokens"))
        .option("--stop <text...>", "stop strings (replace the preset's)")
        .option("--error-threshold <n>", "consecutive code errors that end a trajectory", integer("--error-threshold"))
        .addOption(new Option("--terminal-reward <source>", "reward of a terminal answer").choices(["ground-truth", "reward-model", "none"]))
        .option("--leaf-value", "score new steps with the reward model as their initial value")
        .option("--no-leaf-value", "do not score new steps with the reward model")
        .option("--beam-width <n>", "beam search: beams kept per depth", integer("--beam-width"))
        .option("--samples <n>", "best-of-N: full solutions per problem", integer("--samples"))
        .option("--parallel-rollouts <n>", "MCTS rollouts of one tree in flight at once (virtual loss); 1 = exact sequential algorithm", integer("--parallel-rollouts"))
        .option("--virtual-loss <v>", "value a rollout in flight counts as, negated", number("--virtual-loss"))
        .addOption(new Option("--answer-selection <mode>", "how the answer is chosen").choices(["value", "majority", "weighted"]))
        .option("--vote-top-k <k>", "votes count only the k highest-valued answers (0 = all)", integer("--vote-top-k", 0))
        .option("--code-timeout-ms <ms>", "sandbox timeout per program", integer("--code-timeout-ms"))
        .option("--seed <n>", "base seed for every request", integer("--seed", 0))
        .option("--max-requests <n>", "policy requests in flight at once", integer("--max-requests"))
        .option("--request-timeout-ms <ms>", "timeout of one policy request", integer("--request-timeout-ms"))
        .option("--sandbox-workers <n>", "Python sandbox workers (default: number of cores)", integer("--sandbox-workers"));
}

export interface SearchFlags {
    preset?: string;
    config?: string;
    algorithm?: SearchSettings["algorithm"];
    prompt?: SearchSettings["prompt"];
    rollouts?: number;
    candidates?: number;
    cPuct?: number;
    maxDepth?: number;
    temperature?: number;
    topP?: number;
    maxTokens?: number;
    stop?: string[];
    errorThreshold?: number;
    terminalReward?: SearchSettings["terminalReward"];
    leafValue?: boolean;
    beamWidth?: number;
    samples?: number;
    parallelRollouts?: number;
    virtualLoss?: number;
    answerSelection?: SearchSettings["answerSelection"];
    voteTopK?: number;
    codeTimeoutMs?: number;
    seed?: number;
}

const SETTING_KEYS = Object.keys(BASE_SETTINGS) as (keyof SearchSettings)[];

/** Where the settings start when no --preset is given, fitted to the policy in use. */
export interface SettingsBase {
    preset: string;
    settings: SearchSettings;
}

/**
 * The default starting point of a command. With the shipped tiny policy (no --policy or --policy-url; a 1,024-token context,
 * trained on the SFT format): `search` uses `sample` (SFT prompt, gold-answer terminal reward, PPM leaf values) and
 * `solve` uses `greedy` one step per request (step stops, max depth 16, 256 tokens per step), as the demo does. With
 * --policy or --policy-url (a strong instruction-tuned model): `search` uses `bootstrap` (few-shot prompt, as round 1) and `solve`
 * the official `greedy`. An explicit --preset is always taken as it is.
 */
export function defaultSettingsBase(command: "search" | "solve", flags: { preset?: string; policyUrl?: string[]; policy?: string }): SettingsBase {
    if (flags.preset !== undefined) return { preset: flags.preset, settings: presetSettings(flags.preset) };
    const shipped = usesShippedPolicy(flags);
    if (command === "search") {
        const preset = shipped ? "sample" : "bootstrap";
        return { preset, settings: presetSettings(preset) };
    }
    if (!shipped) return { preset: "greedy", settings: presetSettings("greedy") };
    return { preset: "greedy", settings: { ...presetSettings("greedy"), stop: [...STEP_STOPS], maxDepth: 16, maxTokens: 256 } };
}

/** Whether neither --policy nor --policy-url is given: the shipped tiny policy runs. */
export function usesShippedPolicy(flags: { policyUrl?: string[]; policy?: string }): boolean {
    return flags.policy === undefined && (flags.policyUrl ?? []).every((url) => url.trim() === "");
}

function presetSettings(name: string): SearchSettings {
    const settings = presetNamed(name).settings;
    return { ...settings, stop: [...settings.stop] };
}

/**
 * Base settings (a preset, or a resumed run's), then the config file, then flags: every setting overridable. Each
 * value is checked against the settings schema where it comes from: a flag names the flag, a config file names the
 * file and field, and the combination is checked last.
 */
export function resolveSettings(flags: SearchFlags, base: SearchSettings = presetSettings(flags.preset ?? "bootstrap")): SearchSettings {
    const settings: SearchSettings = { ...base, stop: [...base.stop] };
    if (flags.config !== undefined) Object.assign(settings, readSettingsFile(flags.config));
    for (const key of SETTING_KEYS) {
        const value = (flags as unknown as Record<string, unknown>)[key];
        if (value === undefined) continue;
        const checked = searchSettingsShape[key].safeParse(value);
        if (!checked.success) {
            const { message } = describeSettingsIssue(checked.error);
            throw new RstarError("INVALID_ARGUMENT", `${flagName(key)} ${message}, got ${JSON.stringify(value)}`);
        }
        (settings as unknown as Record<string, unknown>)[key] = checked.data;
    }
    const checked = searchSettingsSchema.safeParse(settings);
    if (!checked.success) {
        const { field, message } = describeSettingsIssue(checked.error);
        throw new RstarError("CONFIG_INVALID", `search setting ${field ?? ""} ${message} (after the preset${flags.config !== undefined ? `, ${flags.config}` : ""} and flags)`);
    }
    return settings;
}

/** The command-line flag of a setting: cPuct → --c-puct. */
function flagName(key: keyof SearchSettings): string {
    return `--${key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`;
}

function readSettingsFile(path: string): Partial<SearchSettings> {
    let text: string;
    try {
        text = readFileSync(path, "utf8");
    } catch (error) {
        throw new RstarError("FILE_NOT_FOUND", `cannot read config file ${path}: ${(error as Error).message}`);
    }
    const parsed = parseJson(text);
    if (!parsed.ok) throw new InputError(parsed.error, { file: path });
    const checked = partialSearchSettingsSchema.safeParse(parsed.value);
    if (!checked.success) {
        const { field, message } = describeSettingsIssue(checked.error);
        throw new InputError(message, { file: path, ...(field ? { field } : {}) });
    }
    return checked.data as Partial<SearchSettings>;
}

function gpuLayers(value: string): number | "max" {
    if (value === "max") return "max";
    return integer("--gpu-layers", 0)(value);
}

export function integer(flag: string, minimum = 1): (value: string) => number {
    return (value) => {
        const parsed = Number(value);
        if (!Number.isInteger(parsed) || parsed < minimum) throw new RstarError("INVALID_ARGUMENT", `${flag} must be an integer >= ${minimum}, got "${value}"`);
        return parsed;
    };
}

export function number(flag: string): (value: string) => number {
    return (value) => {
        const parsed = Number(value);
        if (!Number.isFinite(parsed)) throw new RstarError("INVALID_ARGUMENT", `${flag} must be a number, got "${value}"`);
        return parsed;
    };
}
