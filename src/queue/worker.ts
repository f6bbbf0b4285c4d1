import { hostname } from "node:os";
import { UnrecoverableError, WaitingError, Worker, type Job } from "bullmq";
import { RstarError, describeError } from "../errors/index.js";
import { RUN_STOPPING_CODES, errorRecord, resultRecord, treeRecord } from "../runs/index.js";
import { solveProblem, type SearchServices } from "../search/index.js";
import type { QueueConnection } from "./connection.js";
import { JOB_FORMAT, searchJobSchema, type SearchJobResult } from "./job-schema.js";
import { REGISTRY_KEY, queueName } from "./names.js";
import { connectQueue, failureMessage, obliterateQueue } from "./redis.js";

/** The policy, reward model, sandbox and judge a worker searches with, for one model name. */
export interface WorkerServices extends SearchServices {
    close(): Promise<void>;
}

export interface QueueWorkerOptions {
    connection: QueueConnection;
    /**
     * Opens the services for the run's model (the job names it) and, when the job names them, the worker models to
     * serve (`workerModels`: the coordinator's `--worker-models`, opaque here): checks the policy server
     * (BACKEND_UNAVAILABLE when it cannot be reached). Called again after the services failed with an environment
     * error. Services with worker models are exclusive: before another job's worker models are opened, the open ones
     * are closed (once their jobs finished), so a host never runs two runs' model servers at once.
     */
    openServices: (model: string, workerModels?: Record<string, unknown>) => Promise<WorkerServices>;
    /** Problems searched at once, per run served. */
    concurrency: number;
    /** How long a job's lock lasts without renewal (renewed every half of it); a killed worker's job is retried after it. @unit ms. Default 30000. */
    lockDurationMs?: number;
    /** How often workers look for jobs whose lock expired (stalled). @unit ms. Default 30000. */
    stalledIntervalMs?: number;
    /** Stalls after which a job fails instead of being retried. Default 2. */
    maxStalledCount?: number;
    /** How often the registry of runs is read. @unit ms. Default 2000. */
    discoverMs?: number;
    /** First pause after an environment error (the server is unreachable, no Python), doubling up to 60 s. @unit ms. Default 5000. */
    pauseMs?: number;
    /** Serve only these run ids (default: every run in the registry). */
    runs?: readonly string[];
    /** One line per thing the worker does. */
    log: (line: string) => void;
}

export interface QueueWorkerStats {
    searched: number;
    failedAttempts: number;
    released: number;
}

export interface QueueWorker {
    /** "host:pid", as results and logs name it. */
    readonly name: string;
    readonly stats: QueueWorkerStats;
    /** Problems being searched now. */
    active(): number;
    /**
     * Stops taking jobs. `release: true` aborts the searches in progress and hands their jobs back to the queue at once
     * (another worker restarts them; seeds make the result the same); false waits for them to finish.
     */
    close(options?: { release?: boolean }): Promise<void>;
}

/**
 * `rstar worker`: serves every run in the registry (or `runs`) with one BullMQ worker per run's queue. Each job is one
 * problem: the worker searches it with the job's settings and returns its results and trees records. A problem that
 * fails on its own (the server rejected its prompt) is returned as a failed record, as a single-process run records
 * it; an environment error (server unreachable, no Python) fails the attempt, so that the job is retried (on another
 * worker, after the job's backoff), and pauses this worker until its services answer again.
 */
export async function startQueueWorker(options: QueueWorkerOptions): Promise<QueueWorker> {
    const name = `${hostname()}:${process.pid}`;
    const registry = await connectQueue(options.connection, "rstar-registry", options.log);
    const stats: QueueWorkerStats = { searched: 0, failedAttempts: 0, released: 0 };
    const services = new ServicesCache(options.openServices);
    const releasing = new AbortController();
    const workers = new Map<string, Worker>();
    let activeCount = 0;
    let closing = false;
    let paused: { until: number; delayMs: number; wanted: Wanted } | null = null;
    let pauseTimer: NodeJS.Timeout | undefined;

    const pauseAll = (wanted: Wanted) => {
        const delayMs = Math.min(60_000, paused === null ? (options.pauseMs ?? 5000) : paused.delayMs * 2);
        paused = { until: Date.now() + delayMs, delayMs, wanted };
        for (const worker of workers.values()) void worker.pause(true).catch(() => undefined);
        options.log(`pausing for ${(delayMs / 1000).toFixed(1)} s: this worker's services failed; the job goes back to the queue for another worker`);
        clearTimeout(pauseTimer);
        pauseTimer = setTimeout(() => void probe(), delayMs);
    };
    const probe = async () => {
        if (closing || paused === null) return;
        try {
            const lease = await services.acquire(paused.wanted);
            services.release(lease);
        } catch (error) {
            options.log(`still failing: ${describeError(error)}`);
            pauseAll(paused.wanted);
            return;
        }
        paused = null;
        options.log("services answer again: taking jobs");
        for (const worker of workers.values()) void Promise.resolve(worker.resume()).catch(() => undefined);
    };

    const processJob = async (job: Job, token?: string): Promise<SearchJobResult> => {
        const parsed = searchJobSchema.safeParse(job.data);
        if (!parsed.success) throw new UnrecoverableError(`QUEUE_JOB_FAILED: job ${job.id} is not an ${JOB_FORMAT} job: ${parsed.error.issues[0]?.message ?? "invalid"}`);
        const { problem, settings, model, runId, workerModels } = parsed.data;
        const wanted: Wanted = { model, ...(workerModels !== undefined ? { workerModels } : {}) };
        const label = `run ${runId} problem ${problem.position}`;
        const attempt = `attempt ${job.attemptsMade + 1}/${job.opts.attempts ?? 1}${job.stalledCounter > 0 ? `, after ${job.stalledCounter} stall(s)` : ""}`;
        options.log(`${label}: searching (${attempt})`);
        activeCount += 1;
        const started = performance.now();
        let lease: Lease | undefined;
        try {
            lease = await services.acquire(wanted);
            const outcome = await solveProblem({ index: problem.position, question: problem.question, gold: problem.answer }, settings, lease.services, { signal: releasing.signal });
            stats.searched += 1;
            options.log(`${label}: done in ${((performance.now() - started) / 1000).toFixed(1)} s (${outcome.counters.nodes} nodes, answer ${outcome.selected?.answer ?? "none"})`);
            return { format: JOB_FORMAT, position: problem.position, result: resultRecord(problem, outcome), tree: treeRecord(problem, outcome), worker: name };
        } catch (error) {
            if (releasing.signal.aborted) {
                await job.moveToWait(token);
                stats.released += 1;
                options.log(`${label}: released back to the queue`);
                throw new WaitingError();
            }
            const code = RstarError.isInstance(error) ? error.code : "INTERNAL";
            if (RstarError.isInstance(error) && !error.retryable && !RUN_STOPPING_CODES.has(code)) {
                // The problem failed on its own (e.g. its prompt was rejected): recorded as a single-process run records it.
                options.log(`${label}: failed on its own: ${code}: ${error.message}`);
                return { format: JOB_FORMAT, position: problem.position, result: errorRecord(problem, error, settings), tree: treeRecord(problem, null), worker: name };
            }
            stats.failedAttempts += 1;
            options.log(`${label}: failed (${attempt}): ${code}: ${describeError(error)}`);
            if (RUN_STOPPING_CODES.has(code)) {
                services.evict(keyOf(wanted));
                if (paused === null) pauseAll(wanted);
            }
            throw new Error(failureMessage(code, describeError(error), name));
        } finally {
            activeCount -= 1;
            if (lease !== undefined) services.release(lease);
        }
    };

    const serve = (runId: string) => {
        const worker = new Worker(queueName(runId), processJob, {
            connection: options.connection.options,
            concurrency: options.concurrency,
            lockDuration: options.lockDurationMs ?? 30_000,
            stalledInterval: options.stalledIntervalMs ?? 30_000,
            maxStalledCount: options.maxStalledCount ?? 2,
            name,
        });
        let lastError = "";
        worker.on("error", (error) => {
            if (error.message !== lastError) options.log(`queue ${queueName(runId)}: ${error.message}`);
            lastError = error.message;
        });
        if (paused !== null) void worker.pause(true).catch(() => undefined);
        workers.set(runId, worker);
        options.log(`serving run ${runId} (queue ${queueName(runId)}, ${options.concurrency} at once)`);
    };

    const discover = async () => {
        let registered: Record<string, string>;
        try {
            registered = await (await registry.getBackend().client).hgetall(REGISTRY_KEY);
        } catch (error) {
            options.log(`cannot read the run registry: ${describeError(error)}`);
            return;
        }
        const wanted = Object.keys(registered).filter((runId) => options.runs === undefined || options.runs.includes(runId));
        for (const runId of wanted) if (!workers.has(runId) && !closing) serve(runId);
        for (const [runId, worker] of workers) {
            if (wanted.includes(runId)) continue;
            workers.delete(runId);
            options.log(`run ${runId} is finished: no longer serving it`);
            void retire(runId, worker);
        }
    };
    // The coordinator obliterates a finished run's queue, but a BullMQ worker still attached to it (until the next
    // discovery) can write a few keys back (its stalled-job check, the event stream): once closed, it removes them,
    // unless the run has been registered again meanwhile.
    const retire = async (runId: string, worker: { close(): Promise<void> }) => {
        try {
            await worker.close();
            const client = await registry.getBackend().client;
            if ((await client.hexists(REGISTRY_KEY, runId)) === 1) return;
            const leftover = await connectQueue(options.connection, queueName(runId), options.log);
            try {
                await obliterateQueue(leftover);
            } finally {
                await leftover.close();
            }
        } catch {
            // Redis gone: nothing to tidy, and nothing of the run's results lives in these keys.
        }
    };
    await discover();
    if (workers.size === 0) options.log(`waiting for runs (rstar search --queue ${options.connection.display})`);
    const discoverTimer = setInterval(() => void discover(), options.discoverMs ?? 2000);

    return {
        name,
        stats,
        active: () => activeCount,
        async close({ release = true } = {}) {
            closing = true;
            clearInterval(discoverTimer);
            clearTimeout(pauseTimer);
            if (release) releasing.abort(new RstarError("ABORTED", "the worker is stopping"));
            await Promise.allSettled([...workers.entries()].map(([runId, worker]) => retire(runId, worker)));
            await services.closeAll();
            await registry.close();
        },
    };
}

/** What a job needs served: its model and, optionally, the worker models to start. */
interface Wanted {
    model: string;
    workerModels?: Record<string, unknown>;
}

function keyOf(wanted: Wanted): string {
    return wanted.workerModels === undefined ? wanted.model : `${wanted.model}\n${JSON.stringify(wanted.workerModels)}`;
}

interface Lease {
    entry: CacheEntry;
    services: WorkerServices;
}

interface CacheEntry {
    services: Promise<WorkerServices>;
    users: number;
    evicted: boolean;
    /** Whether it serves worker models (exclusive: one such entry at a time). */
    exclusive: boolean;
    /** Settles once the entry's services are closed. */
    closed: Promise<void>;
    markClosed: () => void;
}

/**
 * Services per model (and worker models), opened on first use and shared; an evicted entry is closed once its last
 * job let go of it. Entries with worker models are exclusive: opening one evicts the others and waits until they are
 * closed (their servers stopped) before it starts its own.
 */
class ServicesCache {
    private readonly entries = new Map<string, CacheEntry>();
    private readonly all = new Set<CacheEntry>();

    constructor(private readonly open: (model: string, workerModels?: Record<string, unknown>) => Promise<WorkerServices>) {}

    async acquire(wanted: Wanted): Promise<Lease> {
        const key = keyOf(wanted);
        let entry = this.entries.get(key);
        if (entry === undefined) {
            const exclusive = wanted.workerModels !== undefined;
            const others = exclusive ? [...this.entries].filter(([, other]) => other.exclusive) : [];
            for (const [otherKey] of others) this.evict(otherKey);
            const before = Promise.all(others.map(([, other]) => other.closed));
            let markClosed!: () => void;
            const closed = new Promise<void>((resolve) => (markClosed = resolve));
            const created: CacheEntry = { services: before.then(() => this.open(wanted.model, wanted.workerModels)), users: 0, evicted: false, exclusive, closed, markClosed };
            created.services.catch(() => {
                if (this.entries.get(key) === created) this.entries.delete(key);
                this.all.delete(created);
                created.markClosed();
            });
            this.entries.set(key, created);
            this.all.add(created);
            entry = created;
        }
        entry.users += 1;
        try {
            return { entry, services: await entry.services };
        } catch (error) {
            entry.users -= 1;
            throw error;
        }
    }

    release(lease: Lease): void {
        lease.entry.users -= 1;
        if (lease.entry.evicted && lease.entry.users === 0) void this.dispose(lease.entry);
    }

    evict(key: string): void {
        const entry = this.entries.get(key);
        if (entry === undefined) return;
        this.entries.delete(key);
        entry.evicted = true;
        if (entry.users === 0) void this.dispose(entry);
    }

    async closeAll(): Promise<void> {
        await Promise.allSettled([...this.all].map((entry) => this.dispose(entry)));
    }

    private async dispose(entry: CacheEntry): Promise<void> {
        if (!this.all.delete(entry)) return entry.closed;
        try {
            await (await entry.services.catch(() => null))?.close();
        } finally {
            entry.markClosed();
        }
    }
}
