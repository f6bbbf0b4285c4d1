import { RstarError } from "../errors/index.js";
import type { RewardItem, RewardModel } from "./types.js";

export interface BatchingRewardModelOptions {
    /** Most items per call to the wrapped model. Defaults to 32. */
    maxBatchSize?: number;
    /** How long the first queued item waits for others before its batch goes out. Defaults to 2. @unit ms */
    maxWaitMs?: number;
    /** Scores remembered (least recently used evicted first); 0 turns caching off. Defaults to 100000. */
    cacheSize?: number;
    /** Defaults to the wrapped model's name (the wrapper does not change scores). */
    name?: string;
    /** Call the wrapped model's `dispose` (when it has one) from this one's. Defaults to true. */
    disposeInner?: boolean;
}

export interface BatchingStats {
    /** Items asked for. */
    requested: number;
    /** Answered from the cache. */
    cacheHits: number;
    /** Joined an identical item already queued or being scored. */
    sharedHits: number;
    /** Items sent to the wrapped model. */
    scored: number;
    /** Calls made to the wrapped model. */
    batches: number;
}

interface Pending {
    key: string;
    item: RewardItem;
    promise: Promise<number>;
    resolve: (score: number) => void;
    reject: (error: unknown) => void;
    /** Callers still waiting; a queued entry nobody waits for any more is dropped instead of scored. */
    waiters: number;
    queued: boolean;
}

/**
 * Middleware over any RewardModel: coalesces concurrent `score` calls into batches (up to `maxBatchSize` items, or
 * whatever arrived within `maxWaitMs`), scores each distinct (question, partialSolution) once, and caches scores in a
 * bounded LRU for the wrapper's life (use one per run). A failed batch rejects its callers and caches nothing.
 * Aborting a call rejects that call only; items nobody else waits for are dropped from the queue.
 */
export class BatchingRewardModel implements RewardModel, AsyncDisposable {
    readonly specVersion = "rstar-reward-model/1" as const;
    readonly name: string;
    private readonly maxBatchSize: number;
    private readonly maxWaitMs: number;
    private readonly cacheSize: number;
    private readonly disposeInner: boolean;
    private readonly cache = new Map<string, number>();
    private readonly pending = new Map<string, Pending>();
    private queue: Pending[] = [];
    private timer: NodeJS.Timeout | undefined;
    private disposed = false;
    private readonly counters: BatchingStats = { requested: 0, cacheHits: 0, sharedHits: 0, scored: 0, batches: 0 };

    constructor(
        readonly inner: RewardModel,
        options: BatchingRewardModelOptions = {},
    ) {
        this.name = options.name ?? inner.name;
        this.maxBatchSize = options.maxBatchSize ?? 32;
        this.maxWaitMs = options.maxWaitMs ?? 2;
        this.cacheSize = options.cacheSize ?? 100_000;
        this.disposeInner = options.disposeInner ?? true;
        if (!Number.isInteger(this.maxBatchSize) || this.maxBatchSize < 1) throw new RstarError("INVALID_ARGUMENT", `maxBatchSize must be an integer >= 1, got ${this.maxBatchSize}`);
        if (!(this.maxWaitMs >= 0)) throw new RstarError("INVALID_ARGUMENT", `maxWaitMs must be >= 0, got ${this.maxWaitMs}`);
        if (!Number.isInteger(this.cacheSize) || this.cacheSize < 0) throw new RstarError("INVALID_ARGUMENT", `cacheSize must be an integer >= 0, got ${this.cacheSize}`);
    }

    get stats(): Readonly<BatchingStats> {
        return { ...this.counters };
    }

    /** Scores currently cached. */
    get cached(): number {
        return this.cache.size;
    }

    async score(items: readonly RewardItem[], options: { signal?: AbortSignal } = {}): Promise<number[]> {
        if (this.disposed) throw new RstarError("BACKEND_DISPOSED", `reward model ${this.name} was disposed`);
        const signal = options.signal;
        if (signal?.aborted) throw new RstarError("ABORTED", "scoring was aborted before it started", { cause: signal.reason });
        this.counters.requested += items.length;
        const results: (number | Pending)[] = items.map((item) => {
            const key = keyOf(item);
            const hit = this.cache.get(key);
            if (hit !== undefined) {
                this.counters.cacheHits += 1;
                this.cache.delete(key);
                this.cache.set(key, hit);
                return hit;
            }
            const shared = this.pending.get(key);
            if (shared !== undefined) {
                this.counters.sharedHits += 1;
                shared.waiters += 1;
                return shared;
            }
            const entry = this.enqueue(key, item);
            return entry;
        });
        const waited = results.filter((result): result is Pending => typeof result !== "number");
        if (waited.length === 0) return results as number[];
        this.schedule();

        const all = Promise.all(results.map((result) => (typeof result === "number" ? result : result.promise)));
        let released = false;
        const release = (abandon: boolean) => {
            if (released) return;
            released = true;
            for (const entry of waited) {
                if (abandon) this.leave(entry);
                else entry.waiters -= 1;
            }
        };
        if (signal === undefined) {
            try {
                return await all;
            } finally {
                release(false);
            }
        }
        return new Promise<number[]>((resolve, reject) => {
            const onAbort = () => {
                release(true);
                reject(new RstarError("ABORTED", "scoring was aborted", { cause: signal.reason }));
            };
            signal.addEventListener("abort", onAbort, { once: true });
            all.then(
                (scores) => {
                    signal.removeEventListener("abort", onAbort);
                    release(false);
                    resolve(scores);
                },
                (error: unknown) => {
                    signal.removeEventListener("abort", onAbort);
                    release(false);
                    reject(error);
                },
            );
        });
    }

    async dispose(): Promise<void> {
        if (this.disposed) return;
        this.disposed = true;
        if (this.timer !== undefined) clearTimeout(this.timer);
        this.timer = undefined;
        const error = new RstarError("BACKEND_DISPOSED", `reward model ${this.name} was disposed`);
        for (const entry of this.queue) {
            this.pending.delete(entry.key);
            entry.reject(error);
        }
        this.queue = [];
        this.cache.clear();
        const inner = this.inner as Partial<{ dispose: () => Promise<void> }>;
        if (this.disposeInner && typeof inner.dispose === "function") await inner.dispose.call(this.inner);
    }

    async [Symbol.asyncDispose](): Promise<void> {
        await this.dispose();
    }

    private enqueue(key: string, item: RewardItem): Pending {
        let resolve!: (score: number) => void;
        let reject!: (error: unknown) => void;
        const promise = new Promise<number>((res, rej) => {
            resolve = res;
            reject = rej;
        });
        promise.catch(() => undefined); // rejections reach callers through Promise.all; never unhandled here
        const entry: Pending = { key, item, promise, resolve, reject, waiters: 1, queued: true };
        this.pending.set(key, entry);
        this.queue.push(entry);
        return entry;
    }

    /** An aborting caller stops waiting; a still-queued entry nobody waits for is dropped. */
    private leave(entry: Pending): void {
        entry.waiters -= 1;
        if (entry.waiters > 0 || !entry.queued) return;
        entry.queued = false;
        this.queue = this.queue.filter((queued) => queued !== entry);
        this.pending.delete(entry.key);
        entry.reject(new RstarError("ABORTED", "scoring was aborted"));
    }

    private schedule(): void {
        while (this.queue.length >= this.maxBatchSize) this.flush();
        if (this.queue.length > 0 && this.timer === undefined) {
            this.timer = setTimeout(() => {
                this.timer = undefined;
                while (this.queue.length > 0) this.flush();
            }, this.maxWaitMs);
        }
    }

    private flush(): void {
        const batch = this.queue.splice(0, this.maxBatchSize);
        if (this.queue.length === 0 && this.timer !== undefined) {
            clearTimeout(this.timer);
            this.timer = undefined;
        }
        for (const entry of batch) entry.queued = false;
        if (batch.length === 0) return;
        this.counters.batches += 1;
        this.counters.scored += batch.length;
        const settle = (apply: () => void) => {
            for (const entry of batch) this.pending.delete(entry.key);
            apply();
        };
        let call: Promise<number[]>;
        try {
            call = this.inner.score(batch.map((entry) => entry.item));
        } catch (error) {
            call = Promise.reject(error);
        }
        call.then(
            (scores) =>
                settle(() => {
                    if (scores.length !== batch.length) {
                        const error = new RstarError("INTERNAL", `reward model ${this.inner.name} returned ${scores.length} scores for ${batch.length} items`);
                        for (const entry of batch) entry.reject(error);
                        return;
                    }
                    batch.forEach((entry, index) => {
                        const score = scores[index] as number;
                        this.remember(entry.key, score);
                        entry.resolve(score);
                    });
                }),
            (error: unknown) => settle(() => batch.forEach((entry) => entry.reject(error))),
        );
    }

    private remember(key: string, score: number): void {
        if (this.cacheSize === 0 || this.disposed) return;
        this.cache.set(key, score);
        if (this.cache.size > this.cacheSize) {
            const oldest = this.cache.keys().next();
            if (!oldest.done) this.cache.delete(oldest.value);
        }
    }
}

function keyOf(item: RewardItem): string {
    return `${item.question.length}:${item.question}${item.partialSolution}`;
}
