import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { z } from "zod";
import { InputError } from "../errors/index.js";
import { parseJson } from "../util/index.js";

/**
 * Stage state files (`DIR/state.json` for the shared data stage, `DIR/round-N/state.json` per round). Each write
 * replaces the file atomically (write a temporary file, then rename), so a kill -9 at any point leaves either the
 * old or the new state, never a torn one.
 */

export const STATE_FORMAT = "rstar-evolve-state/1";

const stageStateSchema = z.object({
    status: z.enum(["pending", "running", "done", "skipped", "failed"]),
    command: z.string().nullable(),
    startedAt: z.string().nullable(),
    finishedAt: z.string().nullable(),
    /** Seconds the stage ran in total, over every attempt. */
    seconds: z.number(),
    attempts: z.number().int(),
    /** The pid of the stage's process while it runs. */
    pid: z.number().int().nullable(),
    /** Why it was skipped, or how the last attempt failed. */
    note: z.string().nullable(),
    /** What the stage's command printed as its --json summary, when it did. */
    summary: z.unknown().optional(),
});
export type StageState = z.infer<typeof stageStateSchema>;

const stateSchema = z.object({
    format: z.literal(STATE_FORMAT),
    round: z.number().int().nonnegative(),
    /** Stage names in order. */
    order: z.array(z.string()),
    stages: z.record(z.string(), stageStateSchema),
    /** Checkpoints this round produced or carried over (paths relative to the evolve directory). */
    artifacts: z.object({ policy: z.string().nullable(), ppm: z.string().nullable() }),
});
export type RoundState = z.infer<typeof stateSchema>;

export function emptyStage(): StageState {
    return { status: "pending", command: null, startedAt: null, finishedAt: null, seconds: 0, attempts: 0, pid: null, note: null };
}

export function readState(path: string): RoundState | null {
    if (!existsSync(path)) return null;
    const parsed = parseJson(readFileSync(path, "utf8"));
    if (!parsed.ok) throw new InputError(parsed.error, { file: path });
    const checked = stateSchema.safeParse(parsed.value);
    if (!checked.success) {
        const issue = checked.error.issues[0];
        throw new InputError(issue?.message ?? "invalid state file", { file: path, field: issue?.path.join(".") ?? "" });
    }
    return checked.data;
}

export function writeState(path: string, state: RoundState): void {
    writeJsonAtomic(path, state);
}

export function writeJsonAtomic(path: string, value: unknown): void {
    mkdirSync(dirname(path), { recursive: true });
    const temporary = `${path}.tmp-${process.pid}`;
    writeFileSync(temporary, JSON.stringify(value, null, 2) + "\n");
    renameSync(temporary, path);
}

export function writeTextAtomic(path: string, text: string): void {
    mkdirSync(dirname(path), { recursive: true });
    const temporary = `${path}.tmp-${process.pid}`;
    writeFileSync(temporary, text);
    renameSync(temporary, path);
}
