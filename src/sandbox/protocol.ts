import { z } from "zod";
import { parseJson } from "../util/index.js";

/** Messages the TypeScript side sends to python/sandbox_worker.py on the worker's fd 3, one JSON object per line. */
export interface InitMessage {
    type: "init";
    token: string;
    scratchRoot: string;
    memoryBytes: number;
    fileSizeBytes: number;
    openFiles: number;
    maxOutputChars: number;
    observationChars: number;
    evalfRounding: boolean;
    seed: number;
    preload: string[];
    dropPrivileges: boolean;
    landlock: boolean;
    auditHook: boolean;
    /** Programs whose end state the worker keeps for prefix reuse (0: off). */
    prefixCache: number;
}

export interface RunMessage {
    type: "run";
    id: number;
    code: string;
    timeoutMs: number;
    cpuMs: number;
    /** Length of a program this worker ran before that this code extends (prefix reuse); a hint the worker checks. */
    prefix?: number;
}

// Messages from Python, on the worker's fd 4. Every line is validated: the worker runs untrusted code.
const landlockSchema = z.object({
    abi: z.number().int().nonnegative(),
    reason: z.string().optional(),
    network: z.boolean().optional(),
    signals: z.boolean().optional(),
    readRoots: z.array(z.string()).optional(),
});

export const readySchema = z.object({
    type: z.literal("ready"),
    token: z.string(),
    isolation: z.object({
        pid: z.number().int(),
        python: z.string(),
        landlock: landlockSchema,
        uid: z.number().int().nullable(),
        dropSkipped: z.string().optional(),
        dropError: z.string().optional(),
        rlimits: z.record(z.string(), z.number()),
        auditHook: z.boolean(),
    }),
});

export const fatalSchema = z.object({ type: z.literal("fatal"), message: z.string() });

export const resultSchema = z.object({
    type: z.literal("result"),
    id: z.number().int(),
    token: z.string(),
    ok: z.boolean(),
    observation: z.string(),
    error: z.object({ type: z.string(), message: z.string() }).nullable(),
    timedOut: z.boolean(),
    execMs: z.number().nonnegative(),
    checkMs: z.number().nonnegative(),
    recycle: z.array(z.string()),
    /** Only the new code ran, on the namespace the cached prefix left. */
    reused: z.boolean().optional(),
    /** The worker kept this program's end state for programs that extend it. */
    cached: z.boolean().optional(),
});

export type ReadyMessage = z.infer<typeof readySchema>;
export type FatalMessage = z.infer<typeof fatalSchema>;
export type ResultMessage = z.infer<typeof resultSchema>;

const workerMessageSchema = z.discriminatedUnion("type", [readySchema, fatalSchema, resultSchema]);
export type WorkerMessage = z.infer<typeof workerMessageSchema>;

/** Parses and validates one line from a worker; never throws. */
export function parseWorkerLine(line: string): { ok: true; message: WorkerMessage } | { ok: false; error: string } {
    const parsed = parseJson(line);
    if (!parsed.ok) return { ok: false, error: parsed.error };
    const checked = workerMessageSchema.safeParse(parsed.value);
    if (!checked.success) {
        const issue = checked.error.issues[0];
        return { ok: false, error: `invalid message (${issue ? `${issue.path.join(".") || "message"}: ${issue.message}` : "unknown"})` };
    }
    return { ok: true, message: checked.data };
}

export function encode(message: InitMessage | RunMessage): string {
    return JSON.stringify(message) + "\n";
}
