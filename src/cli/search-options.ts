import { Option, type Command } from "commander";
import { readFileSync } from "node:fs";
import { z } from "zod";
import { InputError, RstarError } from "../errors/index.js";
import { BASE_SETTINGS, PRESETS, presetNamed, type SearchSettings } from "../search/index.js";
import { parseJson } from "../util/index.js";

/** Flags shared by `rstar search` and `rstar solve`: where the policy is, and every search setting. */
export function addSearchOptions(command: Command, defaultPreset?: string): Command {
    const preset = new Option("--preset <name>", "search preset (see `rstar search --list-presets`)").choices(Object.keys(PRESETS));
    return command
        .option("--policy-url <url...>", "policy server base URL(s) as OpenAI clients take them, e.g. http://127.0.0.1:8000/v1 (several: balanced by load); default: the shipped tiny policy through llama.cpp")
        .option("--model <name>", "model name on the policy server")
        .option("--ppm <dir>", "reward model: a PPM directory (model.gguf, value_head.safetensors, value_head.json) run locally by llama.cpp; default: the shipped PPM")
        .option("--reward-url <url...>", "reward model on a server with vLLM's pooling API (with --value-head for a PPM backbone, or --prm)")
        .option("--reward-model <name>", "model name on the reward server")
        .option("--value-head <file>", "the PPM's value head (safetensors), applied here to the last token's hidden state from --reward-url")
        .option("--prm", "--reward-url serves an off-the-shelf process reward model (e.g. Qwen2.5-Math-PRM-7B) that scores steps itself")
        .addOption(new Option("--prm-aggregate <how>", "combine a PRM's per-step scores").choices(["last", "min", "product", "mean"]))
        .option("--threads <n>", "llama.cpp threads for the shipped models (default: cores - 1, at least 1)", integer("--threads"))
        .addOption(defaultPreset === undefined ? preset : preset.default(defaultPreset))
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
    preset: string;
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

const settingsFileSchema = z.strictObject({
    algorithm: z.enum(["mcts", "beam", "best-of-n", "greedy"]),
    prompt: z.enum(["sft", "bootstrap"]),
    rollouts: z.number().int().positive(),
    candidates: z.number().int().positive(),
    cPuct: z.number().nonnegative(),
    maxDepth: z.number().int().positive(),
    temperature: z.number().nonnegative(),
    topP: z.number().gt(0).lte(1),
    maxTokens: z.number().int().positive(),
    stop: z.array(z.string().min(1)).min(1),
    errorThreshold: z.number().int().positive(),
    terminalReward: z.enum(["ground-truth", "reward-model", "none"]),
    leafValue: z.boolean(),
    positiveReward: z.number(),
    negativeReward: z.number(),
    beamWidth: z.number().int().positive(),
    samples: z.number().int().positive(),
    parallelRollouts: z.number().int().positive(),
    virtualLoss: z.number().nonnegative(),
    answerSelection: z.enum(["value", "majority", "weighted"]),
    voteTopK: z.number().int().nonnegative(),
    codeTimeoutMs: z.number().int().positive(),
    seed: z.number().int().nonnegative(),
}).partial();

/** Preset, then the config file, then flags: every setting overridable. */
export function resolveSettings(flags: SearchFlags): SearchSettings {
    return resolveSettingsFrom({ ...presetNamed(flags.preset).settings, stop: [...presetNamed(flags.preset).settings.stop] }, flags);
}

/** `base` (e.g. an evaluation method's settings), then the config file, then flags. */
export function resolveSettingsFrom(base: SearchSettings, flags: Omit<SearchFlags, "preset">): SearchSettings {
    const settings: SearchSettings = { ...base, stop: [...base.stop] };
    if (flags.config !== undefined) Object.assign(settings, readSettingsFile(flags.config));
    for (const key of SETTING_KEYS) {
        const value = (flags as unknown as Record<string, unknown>)[key];
        if (value !== undefined) (settings as unknown as Record<string, unknown>)[key] = value;
    }
    return settings;
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
    const checked = settingsFileSchema.safeParse(parsed.value);
    if (!checked.success) {
        const issue = checked.error.issues[0];
        const field = issue?.path.join(".") || undefined;
        throw new InputError(issue?.message ?? "invalid settings", { file: path, ...(field ? { field } : {}) });
    }
    return checked.data as Partial<SearchSettings>;
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
