import type { ExecResult } from "./types.js";

function seconds(ms: number): string {
    const value = ms / 1000;
    return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(6)));
}

/** The answer when the worker did not answer in time and was killed from outside (same text as the worker's own). */
export function hardTimeoutResult(timeoutMs: number, durationMs: number): ExecResult {
    const message = `Execution of the code snippet has timed out for exceeding ${seconds(timeoutMs)} seconds.`;
    return { ok: false, observation: `TimeoutError: ${message}`, error: { type: "TimeoutError", message }, timedOut: true, durationMs };
}

/** The answer when the worker died or broke the protocol while running the program. */
export function crashResult(reason: string, durationMs: number): ExecResult {
    const message = `the Python worker ${reason}`;
    return { ok: false, observation: `WorkerCrashed: ${message}`, error: { type: "WorkerCrashed", message }, timedOut: false, durationMs };
}
