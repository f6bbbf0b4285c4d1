/**
 * Redis names of a distributed run. BullMQ keeps each queue under `bull:<queue name>:…`; the registry of runs that
 * workers serve is one hash beside them.
 */
export const REGISTRY_KEY = "rstar:runs";

/** The run's queue: one per run, so several runs share one Redis. */
export function queueName(runId: string): string {
    return `rstar-run-${runId}`;
}

/** A problem's job id: deterministic, so enqueueing a problem again never duplicates it. */
export function jobId(runId: string, position: number): string {
    return `${runId}-${position}`;
}

/** What the registry holds for a run (JSON under the run id). */
export interface RegisteredRun {
    queue: string;
    /** The coordinator's run directory and host, for people reading `HGETALL rstar:runs`. */
    dir: string;
    host: string;
    startedAt: string;
}
