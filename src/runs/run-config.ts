import { createHash } from "node:crypto";
import { readFile, writeFile, rename } from "node:fs/promises";
import { RstarError } from "../errors/index.js";
import { parseJson } from "../util/index.js";
import type { SearchSettings } from "../search/index.js";

export const RUN_FORMAT = "rstar-run/1";

/** What `config.json` in a run directory holds: everything that determines the run's results, plus versions. */
export interface RunConfig {
    format: typeof RUN_FORMAT;
    /**
     * A random id given at creation (16 hex digits): names the run's queue in Redis (`rstar search --queue`).
     * Optional: runs written before it existed have none (see `runIdOf`).
     */
    runId?: string;
    createdAt: string;
    dataset: { path: string; sha256: string; problems: number };
    preset: string | null;
    settings: SearchSettings;
    policy: { id: string; model: string };
    rewardModel: string | null;
    versions: Record<string, string>;
    /**
     * How the run was started, as the command line gave it (dataset path, field names, servers): `--resume` reads it so
     * only `--out` is needed. Optional: runs written before it existed have none.
     */
    invocation?: Record<string, unknown>;
    /**
     * A distributed run's worker models (`rstar search|eval --queue --worker-models FILE`, resolved: the policy and
     * reward endpoints, checkpoints and their sha256), as every job carried them. Optional.
     */
    workerModels?: Record<string, unknown>;
}

export function sha256(text: string | Buffer): string {
    return createHash("sha256").update(text).digest("hex");
}

export async function writeRunConfig(path: string, config: RunConfig): Promise<void> {
    const temporary = `${path}.tmp`;
    await writeFile(temporary, JSON.stringify(config, null, 2) + "\n");
    await rename(temporary, path);
}

export async function readRunConfig(path: string): Promise<RunConfig> {
    const parsed = parseJson(await readFile(path, "utf8"));
    if (!parsed.ok || typeof parsed.value !== "object" || parsed.value === null || (parsed.value as { format?: unknown }).format !== RUN_FORMAT) {
        throw new RstarError("RUN_CONFLICT", `${path} is not an rstar run configuration (${RUN_FORMAT})`);
    }
    return parsed.value as RunConfig;
}

/**
 * Differences that would make a resumed run's results differ from the original's. Versions, creation time and the
 * dataset's path may differ (a moved file with the same content is the same dataset).
 */
export function resultAffectingDifferences(stored: RunConfig, current: RunConfig): string[] {
    const differences: string[] = [];
    if (stored.dataset.sha256 !== current.dataset.sha256) differences.push(`dataset content (${stored.dataset.path} vs ${current.dataset.path})`);
    if (stored.dataset.problems !== current.dataset.problems) differences.push(`problem count (${stored.dataset.problems} vs ${current.dataset.problems})`);
    if (stored.policy.model !== current.policy.model) differences.push(`model (${stored.policy.model} vs ${current.policy.model})`);
    if (stored.rewardModel !== current.rewardModel) differences.push(`reward model (${stored.rewardModel} vs ${current.rewardModel})`);
    for (const key of Object.keys(current.settings) as (keyof SearchSettings)[]) {
        if (JSON.stringify(stored.settings[key]) !== JSON.stringify(current.settings[key])) {
            differences.push(`${key} (${JSON.stringify(stored.settings[key])} vs ${JSON.stringify(current.settings[key])})`);
        }
    }
    return differences;
}

/** The run's id: its stored `runId`, or for runs written before that field, one derived from its creation time and dataset. */
export function runIdOf(config: RunConfig): string {
    return config.runId ?? sha256(`${config.createdAt}\n${config.dataset.sha256}`).slice(0, 16);
}
