import { z } from "zod";
import { RstarError } from "../errors/index.js";
import type { SearchSettings } from "./settings.js";

const count = (what: string) => z.number({ error: `must be a number (${what})` }).int("must be a whole number").min(1, "must be at least 1");
const finite = z.number({ error: "must be a number" }).refine(Number.isFinite, "must be a finite number");

/**
 * The valid range of every search setting. Flags, `--config` files, run configs and library callers are all checked
 * against it; messages say what is wrong, and the caller names where the value came from.
 */
export const searchSettingsShape = {
    algorithm: z.enum(["mcts", "beam", "best-of-n", "greedy"]),
    prompt: z.enum(["sft", "bootstrap"]),
    rollouts: count("MCTS rollouts per problem"),
    candidates: count("candidate steps per expansion"),
    cPuct: finite.refine((value) => value >= 0, "must be >= 0 (the exploration constant)"),
    maxDepth: count("deepest step"),
    temperature: finite.refine((value) => value >= 0, "must be >= 0 (0 = greedy)"),
    topP: finite.refine((value) => value > 0 && value <= 1, "must be in (0, 1]"),
    maxTokens: count("tokens per step"),
    stop: z.array(z.string().min(1, "stop strings must not be empty")).min(1, "must list at least one stop string"),
    errorThreshold: count("consecutive code errors"),
    terminalReward: z.enum(["ground-truth", "reward-model", "none"]),
    leafValue: z.boolean(),
    positiveReward: finite,
    negativeReward: finite,
    beamWidth: count("beams kept per depth"),
    samples: count("solutions per problem"),
    parallelRollouts: count("rollouts in flight"),
    virtualLoss: finite.refine((value) => value >= 0, "must be >= 0"),
    answerSelection: z.enum(["value", "majority", "weighted"]),
    voteTopK: z.number({ error: "must be a number" }).int("must be a whole number").min(0, "must be >= 0 (0 = all)"),
    codeTimeoutMs: count("milliseconds"),
    seed: z.number({ error: "must be a number" }).int("must be a whole number").min(0, "must be >= 0").max(Number.MAX_SAFE_INTEGER, "is too large"),
} satisfies Record<keyof SearchSettings, z.ZodType>;

/** Every setting present and in range, positive reward above negative reward. */
export const searchSettingsSchema = z
    .strictObject(searchSettingsShape)
    .refine((settings) => settings.positiveReward > settings.negativeReward, { message: "must be greater than negativeReward", path: ["positiveReward"] });

/** A partial set of settings (a `--config` file): only known keys, each in range. */
export const partialSearchSettingsSchema = z.strictObject(searchSettingsShape).partial();

/** One issue of a failed check as `field: message`. */
export function describeSettingsIssue(error: z.ZodError): { field: string | undefined; message: string } {
    const issue = error.issues[0];
    const field = issue?.path.map(String).join(".") || undefined;
    const message = issue?.code === "unrecognized_keys" ? `unknown setting(s) ${issue.keys.map((key) => `"${key}"`).join(", ")}` : (issue?.message ?? "is invalid");
    return { field, message };
}

/** Checks complete settings (library callers); CONFIG_INVALID naming the setting otherwise. */
export function validateSettings(settings: SearchSettings): void {
    const checked = searchSettingsSchema.safeParse(settings);
    if (checked.success) return;
    const { field, message } = describeSettingsIssue(checked.error);
    throw new RstarError("CONFIG_INVALID", field === undefined ? `search settings: ${message}` : `search setting ${field} ${message}`);
}
