import { hostname } from "node:os";
import { resolve } from "node:path";
import type { Job } from "bullmq";
import type { DatasetProblem } from "../data/index.js";
import { RstarError, describeError } from "../errors/index.js";
import {
    RunProgressTracker,
    RunStore,
    commitRecord,
    errorRecord,
    prepareRun,
    rebuildExports,
    runIdOf,
    selectionSawGold,
    summarizeRun,
    treeRecord,
    type RunIdentity,
    type RunProgress,
    type RunSummary,
} from "../runs/index.js";
import { validateSettings } from "../search/index.js";
import type { QueueConnection } from "./connection.js";
import { JOB_FORMAT, searchJobResultSchema, type SearchJob } from "./job-schema.js";
import { REGISTRY_KEY, jobId, queueName, type RegisteredRun } from "./names.js";
import { connectQueue, obliterateQueue, parseFailure, probeRedis } from "./redis.js";

export interface QueueSearchOptions extends Omit<RunIdentity, "policy" | "rewardModel"> {
    connection: QueueConnection;
    /** The model name the workers' policy servers serve (recorded in config.json; sent with every job). */
    model: string;
    /** The reward model's name as config.json records it (null when the settings need none). */
    rewardModel: string | null;
    /** The models every worker must serve (`--worker-models`, resolved): sent with every job, recorded in config.json. */
    workerModels?: Record<string, unknown>;
    /** Most problems in Redis at once (waiting, in progress or finished and not yet collected). Default 256. */
    window?: number;
    /** Finished jobs read from Redis at once: the most results this process holds in memory. Default 16. */
    batch?: number;
    /** Attempts per problem before it is recorded as failed. Default 3. */
    attempts?: number;
    /** Backoff before the 2nd attempt, doubling after. @unit ms. Default 5000. */
    retryDelayMs?: number;
    /** Wait between polls of the queue when nothing finished. @unit ms. Default 200. */
    pollMs?: number;
    /** How often the run's registration and queued jobs are checked (jobs lost by Redis are enqueued again). @unit ms. Default 5000. */
    reconcileMs?: number;
    signal?: AbortSignal;
    onProgress?: (progress: RunProgress) => void;
    log?: (line: string) => void;
}

export interface QueueRunSummary extends RunSummary {
    runId: string;
    queue: string;
    /** Results committed in this session that a worker searched (not failed jobs). */
    collected: number;
    /** The most finished jobs held in memory at once (never above `batch`). */
    maxResultsHeld: number;
    /** The most problems in Redis at once as this process counted them (never above `window`). */
    maxOutstanding: number;
}

/**
 * The coordinator of a distributed run (`rstar search --queue`): the same run directory as `runSearch` (config.json,
 * SQLite store, results.jsonl, trees.jsonl), but problems are searched by `rstar worker` processes fed from a BullMQ
 * queue named by the run id. At most `window` problems are in Redis at once; finished jobs are read `batch` at a time,
 * each committed to the store exactly once (a job whose problem is already stored is only removed), then removed from
 * Redis. A crash at any point is resumed with `resume: true`: jobs that finished meanwhile are collected, jobs still
 * queued are kept (their ids are deterministic, so nothing is enqueued twice).
 */
export async function runQueueSearch(options: QueueSearchOptions): Promise<QueueRunSummary> {
    const started = performance.now();
    const log = options.log ?? (() => undefined);
    validateSettings(options.settings);
    const window = options.window ?? 256;
    const batch = options.batch ?? 16;
    if (!Number.isInteger(window) || window < 1 || !Number.isInteger(batch) || batch < 1) throw new RstarError("INVALID_ARGUMENT", "--queue-window and --queue-batch must be positive integers");
    // Redis first: a wrong URL or password must not leave a run directory behind.
    await probeRedis(options.connection, 15_000);
    const { paths, config } = await prepareRun({
        ...options,
        policy: { id: `queue:${options.connection.display}`, model: options.model },
        rewardModel: options.rewardModel,
    });
    const runId = runIdOf(config);
    const name = queueName(runId);
    const queue = await connectQueue(options.connection, name, log);
    const store = new RunStore(paths.store);
    try {
        rebuildExports(store, paths);
        const finished = store.finishedPositions();
        const resumed = finished.size;
        const byPosition = new Map(options.problems.map((problem) => [problem.position, problem]));
        const tracker = new RunProgressTracker(options.problems.length, finished.size, options.onProgress);
        for (const stored of store.all()) tracker.countStored(stored.result, selectionSawGold(stored.result, options.settings));
        const client = await queue.getBackend().client;
        const registration: RegisteredRun = { queue: name, dir: resolve(options.dir), host: hostname(), startedAt: new Date().toISOString() };
        await client.hset(REGISTRY_KEY, { [runId]: JSON.stringify(registration) });
        log(`run ${runId}: queue ${name} on ${options.connection.display}`);

        // Jobs already in Redis (a resumed coordinator): they count against the window and are not enqueued again.
        const outstanding = new Set<number>();
        for (const job of await queue.getJobs(["waiting", "active", "delayed", "prioritized", "waiting-children", "completed", "failed"], 0, -1)) {
            const position = positionOf(job, runId);
            if (position !== null) outstanding.add(position);
        }
        if (outstanding.size > 0) log(`run ${runId}: ${outstanding.size} problems already in the queue`);
        const todo = options.problems.filter((problem) => !finished.has(problem.position) && !outstanding.has(problem.position));
        let next = 0;
        let failed = 0;
        let collected = 0;
        let maxResultsHeld = 0;
        let maxOutstanding = outstanding.size;
        const jobOptions = { attempts: options.attempts ?? 3, backoff: { type: "exponential", delay: options.retryDelayMs ?? 5000 }, removeOnComplete: false, removeOnFail: false };

        // Problems whose jobs vanished from Redis (restarted without persistence, flushed): enqueued again first.
        const lost: DatasetProblem[] = [];
        const fill = async () => {
            const jobs: { name: string; data: SearchJob; opts: typeof jobOptions & { jobId: string } }[] = [];
            while (outstanding.size + jobs.length < window && (lost.length > 0 || next < todo.length)) {
                let problem = lost.shift();
                if (problem === undefined) {
                    problem = todo[next] as DatasetProblem;
                    next += 1;
                }
                jobs.push({ name: "search", data: jobData(runId, options.model, problem, options), opts: { ...jobOptions, jobId: jobId(runId, problem.position) } });
            }
            if (jobs.length === 0) return;
            await queue.addBulk(jobs);
            for (const job of jobs) outstanding.add(job.data.problem.position);
            maxOutstanding = Math.max(maxOutstanding, outstanding.size);
        };

        const commit = (position: number, result: Record<string, unknown>, tree: Record<string, unknown>) => {
            commitRecord(store, paths, position, result, tree);
            finished.add(position);
            if (result["error"] !== null && result["error"] !== undefined) failed += 1;
            tracker.problemRecorded(result, selectionSawGold(result, options.settings));
        };

        const collect = async (state: "completed" | "failed"): Promise<number> => {
            const jobs = await queue.getJobs([state], 0, batch - 1, true);
            maxResultsHeld = Math.max(maxResultsHeld, jobs.length);
            for (const job of jobs) {
                const position = positionOf(job, runId);
                const problem = position === null ? undefined : byPosition.get(position);
                if (position !== null && problem !== undefined && !finished.has(position)) {
                    if (state === "completed") {
                        const parsed = searchJobResultSchema.safeParse(job.returnvalue);
                        if (parsed.success && parsed.data.position === position) {
                            commit(position, parsed.data.result, parsed.data.tree);
                            collected += 1;
                        } else {
                            commit(position, errorRecord(problem, new RstarError("QUEUE_JOB_FAILED", `the worker's result for job ${job.id} is not an ${JOB_FORMAT} result`), options.settings), treeRecord(problem, null));
                        }
                    } else {
                        const reason = parseFailure(job.failedReason ?? "unknown");
                        const error = new RstarError("QUEUE_JOB_FAILED", `${reason.code === null ? "" : `${reason.code}: `}${reason.message} (failed after ${job.attemptsMade} attempt(s))`, {
                            details: { lastErrorCode: reason.code, attempts: job.attemptsMade, stalls: job.stalledCounter },
                        });
                        log(`problem ${position}: failed for good: ${error.message}`);
                        commit(position, errorRecord(problem, error, options.settings), treeRecord(problem, null));
                    }
                }
                // Committed (now or before a crash): the job's work is done.
                await job.remove();
                if (position !== null) outstanding.delete(position);
            }
            return jobs.length;
        };

        // Every few seconds: the run is registered (workers find it) and every problem counted as queued has its job.
        const reconcile = async () => {
            await client.hset(REGISTRY_KEY, { [runId]: JSON.stringify(registration) });
            const counts = await queue.getJobCounts("waiting", "active", "delayed", "prioritized", "waiting-children", "completed", "failed");
            if (Object.values(counts).reduce((sum, count) => sum + count, 0) >= outstanding.size) return;
            for (const position of [...outstanding]) {
                if ((await queue.getJob(jobId(runId, position))) !== undefined) continue;
                outstanding.delete(position);
                const problem = byPosition.get(position);
                if (problem !== undefined && !finished.has(position)) lost.push(problem);
            }
            if (lost.length > 0) log(`run ${runId}: ${lost.length} queued problems are gone from Redis (restarted without persistence, or flushed): enqueueing them again`);
        };
        let lastReconcile = performance.now();
        let lastActiveCheck = 0;
        while (!options.signal?.aborted && finished.size < options.problems.length) {
            try {
                const got = (await collect("completed")) + (await collect("failed"));
                await fill();
                if (finished.size >= options.problems.length) break;
                if (performance.now() - lastReconcile > (options.reconcileMs ?? 5000)) {
                    lastReconcile = performance.now();
                    await reconcile();
                    await fill();
                }
                if (outstanding.size === 0 && next >= todo.length && lost.length === 0) {
                    throw new RstarError("INTERNAL", `run ${runId}: ${options.problems.length - finished.size} problems are neither stored nor queued`);
                }
                if (got === 0) {
                    if (performance.now() - lastActiveCheck > 1000) {
                        lastActiveCheck = performance.now();
                        tracker.setInProgress((await queue.getJobCounts("active"))["active"] ?? 0);
                    }
                    await sleep(options.pollMs ?? 200, options.signal);
                }
            } catch (error) {
                if (RstarError.isInstance(error) && (error.code === "INTERNAL" || error.code === "RUN_STORE")) throw error;
                if (options.signal?.aborted) break;
                log(`queue ${name}: ${describeError(error)}; retrying in 1 s`);
                await sleep(1000, options.signal);
            }
        }
        tracker.stop();
        const done = finished.size >= options.problems.length;
        if (done) {
            // The exports in dataset order: which worker finished a problem first must not change what is
            // extracted from them (rstar extract reads trees.jsonl in file order; rstar evolve trains on that).
            rebuildExports(store, paths, "position");
            // Nothing of the run is left to collect: its queue and registry entry go.
            await client.hdel(REGISTRY_KEY, runId);
            await obliterateQueue(queue);
        }
        return {
            ...summarizeRun(options, tracker, { resumed, failed, started, aborted: !done && (options.signal?.aborted ?? false) }),
            runId,
            queue: name,
            collected,
            maxResultsHeld,
            maxOutstanding,
        };
    } finally {
        store.close();
        await queue.close().catch(() => undefined);
    }
}

function jobData(runId: string, model: string, problem: DatasetProblem, options: QueueSearchOptions): SearchJob {
    return {
        format: JOB_FORMAT,
        runId,
        model,
        problem: { position: problem.position, line: problem.line, question: problem.question, answer: problem.answer, record: problem.record },
        settings: options.settings,
        ...(options.workerModels !== undefined ? { workerModels: options.workerModels } : {}),
    };
}

function positionOf(job: Job, runId: string): number | null {
    const prefix = `${runId}-`;
    if (job.id === undefined || !job.id.startsWith(prefix)) return null;
    const position = Number(job.id.slice(prefix.length));
    return Number.isInteger(position) && position >= 0 ? position : null;
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve) => {
        if (signal?.aborted) return resolve();
        const timer = setTimeout(done, ms);
        signal?.addEventListener("abort", done, { once: true });
        function done() {
            clearTimeout(timer);
            signal?.removeEventListener("abort", done);
            resolve();
        }
    });
}
