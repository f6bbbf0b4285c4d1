import { performance } from "node:perf_hooks";
import { RstarError } from "../errors/index.js";
import { namespaceSupport, type NamespaceSupport } from "./namespaces.js";
import { runLimit, type ResolvedOptions } from "./options.js";
import { PrefixIndex } from "./prefix-index.js";
import type { ReadyMessage, ResultMessage, RunMessage } from "./protocol.js";
import { crashResult, hardTimeoutResult } from "./results.js";
import { createScratchRoot, removeScratch } from "./scratch.js";
import type { ExecResult, IsolationReport, RunOptions, Sandbox, SandboxStats } from "./types.js";
import { WorkerProcess, type RunOutcome } from "./worker-process.js";
import { isolationReport } from "./isolation-report.js";

interface Job {
    code: string;
    timeoutMs: number;
    cpuMs: number;
    resolve: (result: ExecResult) => void;
    reject: (error: Error) => void;
    /** Length of the cached program this one extends, on the worker it is sent to. */
    prefixLength?: number | undefined;
}

/** Consecutive failed worker starts, with no worker left, after which queued and new programs fail. */
const MAX_START_FAILURES = 3;

/**
 * A pool of warm Python workers. At most `workers` programs run at once; `spares` more workers wait warm so that
 * retiring a worker (after a program that may have changed its state, a crash or a timeout) costs no latency.
 * Every program handed to run() is answered exactly once: with its result, or with a TimeoutError/WorkerCrashed
 * result when its worker had to be killed. A program is never retried once sent to a worker.
 */
export class SandboxPool implements Sandbox {
    private readonly options: ResolvedOptions;
    private readonly namespaces: NamespaceSupport;
    private readonly root: string;
    private readonly live = new Set<WorkerProcess>();
    private readonly queue: Job[] = [];
    private readonly requeued: Job[] = [];
    private readonly prefixes: PrefixIndex<WorkerProcess>;
    private starting = 0;
    private dispatchScheduled = false;
    private running = 0;
    private nextWorker = 0;
    private nextRequest = 0;
    private startFailures = 0;
    private broken: Error | undefined;
    private disposed = false;
    private report: IsolationReport | undefined;
    private readonly counters = { completed: 0, workersStarted: 0, recycled: 0, crashed: 0, timedOut: 0, execMs: 0, checkMs: 0, measured: 0, reused: 0 };
    private readonly recycleReasons: Record<string, number> = {};

    constructor(options: ResolvedOptions) {
        this.options = options;
        this.namespaces = options.namespaces ? namespaceSupport() : { prefix: [], kinds: [], reason: "disabled by options" };
        this.root = createScratchRoot();
        this.prefixes = new PrefixIndex(options.prefixCache);
    }

    get isolation(): IsolationReport {
        if (this.report === undefined) throw new RstarError("INTERNAL", "sandbox isolation is known only after start()");
        return this.report;
    }

    /** Starts all workers (and spares) and waits for them; fails with SANDBOX_START_FAILED if the first one cannot start. */
    async start(): Promise<void> {
        const target = this.options.workers + this.options.spares;
        const starts = Array.from({ length: target }, () => this.startWorker());
        const results = await Promise.allSettled(starts);
        const failure = results.find((result): result is PromiseRejectedResult => result.status === "rejected");
        if (this.live.size === 0 || this.report === undefined) {
            await this.dispose();
            throw failure?.reason instanceof Error ? failure.reason : new RstarError("SANDBOX_START_FAILED", "no sandbox worker could be started");
        }
        this.refill();
    }

    run(code: string, options: RunOptions = {}): Promise<ExecResult> {
        if (this.disposed) return Promise.reject(new RstarError("SANDBOX_DISPOSED", "the sandbox has been disposed"));
        if (this.broken !== undefined) return Promise.reject(this.broken);
        if (typeof code !== "string") return Promise.reject(new RstarError("INVALID_ARGUMENT", "sandbox run(): code must be a string"));
        let timeoutMs: number;
        let cpuMs: number;
        try {
            timeoutMs = runLimit("timeoutMs", options.timeoutMs, this.options.timeoutMs);
            cpuMs = runLimit("cpuMs", options.cpuMs, options.timeoutMs ?? this.options.cpuMs);
        } catch (error) {
            return Promise.reject(error as Error);
        }
        return new Promise<ExecResult>((resolve, reject) => {
            this.queue.push({ code, timeoutMs, cpuMs, resolve, reject });
            this.scheduleDispatch();
        });
    }

    stats(): SandboxStats {
        const { completed, workersStarted, recycled, crashed, timedOut, execMs, checkMs, measured, reused } = this.counters;
        return {
            completed,
            queued: this.queue.length,
            running: this.running,
            workersStarted,
            recycled,
            crashed,
            timedOut,
            reused,
            recycleReasons: { ...this.recycleReasons },
            meanExecMs: measured ? execMs / measured : 0,
            meanCheckMs: measured ? checkMs / measured : 0,
        };
    }

    async dispose(): Promise<void> {
        if (this.disposed) return;
        this.disposed = true;
        const error = new RstarError("SANDBOX_DISPOSED", "the sandbox was disposed before the program ran");
        for (const job of this.queue.splice(0)) job.reject(error);
        const exits = [...this.live].map((worker) => new Promise<void>((resolve) => worker.onceExited(resolve)));
        for (const worker of this.live) worker.kill("disposed");
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([Promise.all(exits), new Promise((resolve) => (timer = setTimeout(resolve, 2000)))]);
        clearTimeout(timer);
        this.live.clear();
        removeScratch(this.root);
    }

    async [Symbol.asyncDispose](): Promise<void> {
        await this.dispose();
    }

    /** Dispatches once the current task is done: programs submitted together (a node's candidates) travel together. */
    private scheduleDispatch(): void {
        if (this.dispatchScheduled) return;
        this.dispatchScheduled = true;
        queueMicrotask(() => {
            this.dispatchScheduled = false;
            this.dispatch();
        });
    }

    /**
     * Hands queued programs to workers: a program whose code extends one a worker has cached goes to that worker
     * (prefix reuse), others to the least loaded of at most `workers` active workers; each worker gets at most
     * `pipeline` programs in flight, and all programs chosen for one worker in this pass travel in one write.
     */
    private dispatch(): void {
        if (this.disposed) return;
        const batches = new Map<WorkerProcess, Job[]>();
        let index = 0;
        while (index < this.queue.length) {
            const job = this.queue[index] as Job;
            const worker = this.pick(job, batches);
            if (worker === "wait") {
                index += 1; // its prefix's worker is full: it waits there, later programs may go elsewhere
                continue;
            }
            if (worker === undefined) break;
            this.queue.splice(index, 1);
            // Known at once, so that the next step of this program's trajectory, in this very pass, follows it.
            if (this.options.prefixReuse) this.prefixes.expect(job.code, worker);
            const batch = batches.get(worker);
            if (batch === undefined) batches.set(worker, [job]);
            else batch.push(job);
        }
        for (const [worker, jobs] of batches) this.send(worker, jobs);
    }

    private load(worker: WorkerProcess, batches: Map<WorkerProcess, Job[]>): number {
        return worker.inFlight + (batches.get(worker)?.length ?? 0);
    }

    private accepts(worker: WorkerProcess, batches: Map<WorkerProcess, Job[]>): boolean {
        const load = this.load(worker, batches);
        return worker.usable && load < this.options.pipeline && worker.programs + (batches.get(worker)?.length ?? 0) < this.options.recycleAfter;
    }

    /** The worker for a job; "wait" when the worker holding its prefix is alive but has a full pipeline. */
    private pick(job: Job, batches: Map<WorkerProcess, Job[]>): WorkerProcess | "wait" | undefined {
        const workers = [...this.live];
        const active = workers.filter((worker) => this.load(worker, batches) > 0).length;
        job.prefixLength = undefined;
        const hit = this.options.prefixReuse ? this.prefixes.lookup(job.code) : undefined;
        if (hit !== undefined && hit.worker.usable) {
            if (this.accepts(hit.worker, batches) && (this.load(hit.worker, batches) > 0 || active < this.options.workers)) {
                job.prefixLength = hit.length;
                return hit.worker;
            }
            if (this.load(hit.worker, batches) > 0) return "wait";
        }
        let best: WorkerProcess | undefined;
        for (const worker of workers) {
            if (!this.accepts(worker, batches)) continue;
            const load = this.load(worker, batches);
            if (load === 0 && active >= this.options.workers) continue;
            // Queue behind a running program only when no worker is about to become free by starting up.
            if (load > 0 && this.starting > 0) continue;
            if (best === undefined || load < this.load(best, batches)) best = worker;
        }
        return best;
    }

    private send(worker: WorkerProcess, jobs: Job[]): void {
        const messages = jobs.map((job) => {
            const id = ++this.nextRequest;
            const message: RunMessage = { type: "run", id, code: job.code, timeoutMs: job.timeoutMs, cpuMs: job.cpuMs };
            if (job.prefixLength !== undefined) message.prefix = job.prefixLength;
            return { message, hardLimitMs: job.timeoutMs + this.options.graceMs };
        });
        this.running += jobs.length;
        const outcomes = worker.send(messages);
        jobs.forEach((job, index) => void (outcomes[index] as Promise<RunOutcome>).then((outcome) => this.finish(worker, job, outcome)));
    }

    private finish(worker: WorkerProcess, job: Job, outcome: RunOutcome): void {
        this.running -= 1;
        if (outcome.kind === "requeue") {
            // Sent, never started: the worker stopped before reaching it. It runs once, on another worker.
            this.prefixes.forget(job.code, worker);
            if (this.disposed) job.reject(new RstarError("SANDBOX_DISPOSED", "the sandbox was disposed before the program ran"));
            else {
                this.requeued.push(job);
                queueMicrotask(() => this.flushRequeued());
            }
            return;
        }
        const durationMs = Math.round((performance.now() - outcome.startedAt) * 1000) / 1000;
        this.counters.completed += 1;
        let result: ExecResult;
        if (outcome.kind === "result") {
            result = this.fromMessage(outcome.message, durationMs);
            if (outcome.message.reused === true) this.counters.reused += 1;
            if (outcome.message.cached !== true) this.prefixes.forget(job.code, worker);
            const reasons = [...outcome.message.recycle];
            if (worker.programs >= this.options.recycleAfter && worker.inFlight === 0) reasons.push(`recycleAfter (${this.options.recycleAfter} programs)`);
            if (reasons.length > 0) this.retire(worker, reasons);
        } else if (outcome.kind === "timeout") {
            this.counters.timedOut += 1;
            this.counters.crashed += 1;
            result = hardTimeoutResult(job.timeoutMs, durationMs);
            this.retire(worker, ["hard timeout"]);
        } else {
            this.counters.crashed += 1;
            result = crashResult(outcome.reason, durationMs);
            this.retire(worker, ["worker crashed"]);
        }
        if (this.disposed && outcome.kind !== "result") job.reject(new RstarError("SANDBOX_DISPOSED", "the sandbox was disposed while the program ran"));
        else job.resolve(result);
        this.dispatch();
    }

    /** Puts programs that a retired worker never started back at the front of the queue, in their order. */
    private flushRequeued(): void {
        if (this.requeued.length === 0) return;
        this.queue.unshift(...this.requeued.splice(0));
        this.dispatch();
    }

    private fromMessage(message: ResultMessage, durationMs: number): ExecResult {
        if (message.timedOut) this.counters.timedOut += 1;
        this.counters.execMs += message.execMs;
        this.counters.checkMs += message.checkMs;
        this.counters.measured += 1;
        return { ok: message.ok, observation: message.observation, error: message.error, timedOut: message.timedOut, durationMs };
    }

    private retire(worker: WorkerProcess, reasons: string[]): void {
        this.counters.recycled += 1;
        for (const reason of reasons) {
            const key = reason.replace(/: .*$/s, "");
            this.recycleReasons[key] = (this.recycleReasons[key] ?? 0) + 1;
        }
        worker.kill(`recycled: ${reasons.join("; ")}`);
        this.forget(worker);
    }

    private forget(worker: WorkerProcess): void {
        this.live.delete(worker);
        this.prefixes.dropWorker(worker);
        this.refill();
    }

    /** Starts workers until live + starting reaches workers + spares. */
    private refill(): void {
        if (this.disposed || this.broken !== undefined || this.report === undefined) return;
        const target = this.options.workers + this.options.spares;
        while (this.live.size + this.starting < target) {
            this.startWorker().catch(() => undefined);
        }
    }

    private async startWorker(): Promise<void> {
        this.starting += 1;
        const index = ++this.nextWorker;
        let started: { worker: WorkerProcess; ready: ReadyMessage };
        try {
            started = await WorkerProcess.start(index, this.options, this.namespaces, this.root);
        } catch (error) {
            this.starting -= 1;
            this.onStartFailure(error instanceof Error ? error : new Error(String(error)));
            throw error;
        }
        this.starting -= 1;
        const { worker, ready } = started;
        if (this.disposed) {
            worker.kill("disposed");
            return;
        }
        this.startFailures = 0;
        this.counters.workersStarted += 1;
        this.report ??= isolationReport(this.namespaces, ready);
        this.live.add(worker);
        worker.onceExited(() => {
            if (this.live.has(worker) && !worker.busy) this.forget(worker);
        });
        this.dispatch();
    }

    private onStartFailure(error: Error): void {
        this.startFailures += 1;
        if (this.disposed || this.report === undefined) return;
        if (this.live.size === 0 && this.starting === 0 && this.startFailures >= MAX_START_FAILURES) {
            this.broken = error;
            for (const job of this.queue.splice(0)) job.reject(error);
            return;
        }
        const delay = Math.min(5000, 250 * 2 ** this.startFailures);
        setTimeout(() => this.refill(), delay).unref();
    }
}
