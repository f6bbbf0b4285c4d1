/**
 * How many problems a run keeps in flight against an HTTP policy server, found the way congestion control finds a
 * link's capacity. The run reports every policy request's latency (from the client's side, waiting for a free
 * request slot included) and every overload answer (429/503); the limit changes once per window, a window being as
 * many answered requests as the limit:
 * - overload answer in the window: halve (multiplicative decrease);
 * - latency climbed (window mean above `latencyTolerance` × the lowest window mean seen, plus `latencySlackMs`)
 *   while throughput did not rise: × 0.8 — requests queue in the server, more in flight only adds waiting;
 * - otherwise, while throughput rises (≥ `gain` over the last window), double in slow start (until the first
 *   decrease), +1 after it (additive increase); when it is flat, probe with +1.
 * Always within [min, max]. Only the schedule depends on it: seeds derive from problem and node, so results do not.
 */
export interface AdaptiveConcurrencyOptions {
    /** Limit to start at. Default 8. */
    initial?: number;
    /** Default 1. */
    min?: number;
    /** Upper bound (`--max-in-flight`). Default 256 (vLLM's default max_num_seqs). */
    max?: number;
    /** Default 1.5. */
    latencyTolerance?: number;
    /** Absolute latency noise tolerated on top (event-loop jitter at near-zero latency). @unit ms. Default 5. */
    latencySlackMs?: number;
    /** Relative throughput rise that counts as rising. Default 0.05. */
    gain?: number;
    /** Clock. @unit ms. Default performance.now. */
    now?: () => number;
}

export interface ConcurrencyDecision {
    limit: number;
    reason: "overload" | "latency" | "slow-start" | "increase" | "probe";
    /** Requests per second and mean latency (ms) of the window that decided. */
    throughput: number;
    latencyMs: number;
}

export class AdaptiveConcurrency {
    private current: number;
    private readonly min: number;
    private readonly max: number;
    private readonly latencyTolerance: number;
    private readonly latencySlackMs: number;
    private readonly gain: number;
    private readonly now: () => number;
    private slowStart = true;
    private baselineMs = Number.POSITIVE_INFINITY;
    private previousThroughput: number | undefined;
    private windowStart: number;
    private windowCount = 0;
    private windowLatencySum = 0;
    private windowOverloaded = false;
    private readonly listeners: ((limit: number) => void)[] = [];
    /** Every change of the limit, for logs and tests. */
    readonly decisions: ConcurrencyDecision[] = [];

    constructor(options: AdaptiveConcurrencyOptions = {}) {
        this.min = options.min ?? 1;
        this.max = options.max ?? 256;
        if (!Number.isInteger(this.min) || this.min < 1 || !Number.isInteger(this.max) || this.max < this.min) throw new RangeError(`adaptive concurrency needs integers 1 <= min <= max, got ${this.min}, ${this.max}`);
        this.current = clamp(options.initial ?? 8, this.min, this.max);
        this.latencyTolerance = options.latencyTolerance ?? 1.5;
        this.latencySlackMs = options.latencySlackMs ?? 5;
        this.gain = options.gain ?? 0.05;
        this.now = options.now ?? (() => performance.now());
        this.windowStart = this.now();
    }

    get limit(): number {
        return this.current;
    }

    /** Called with the new limit after every change. */
    onChange(listener: (limit: number) => void): void {
        this.listeners.push(listener);
    }

    /** A policy request was answered after `latencyMs`. */
    requestDone(latencyMs: number): void {
        this.windowCount += 1;
        this.windowLatencySum += latencyMs;
        if (this.windowCount >= this.current) this.endWindow();
    }

    /** The server answered 429 or 503 (it will be retried): back off at the end of this window. */
    overloaded(): void {
        this.windowOverloaded = true;
    }

    private endWindow(): void {
        const elapsed = Math.max(this.now() - this.windowStart, 1e-3);
        const throughput = (this.windowCount * 1000) / elapsed;
        const latencyMs = this.windowLatencySum / this.windowCount;
        this.baselineMs = Math.min(this.baselineMs, latencyMs);
        const rising = this.previousThroughput === undefined || throughput >= this.previousThroughput * (1 + this.gain);
        let next = this.current;
        let reason: ConcurrencyDecision["reason"];
        if (this.windowOverloaded) {
            next = Math.floor(this.current / 2);
            reason = "overload";
            this.slowStart = false;
        } else if (latencyMs > this.baselineMs * this.latencyTolerance + this.latencySlackMs && !rising) {
            next = Math.floor(this.current * 0.8);
            reason = "latency";
            this.slowStart = false;
        } else if (rising) {
            next = this.slowStart ? this.current * 2 : this.current + 1;
            reason = this.slowStart ? "slow-start" : "increase";
        } else {
            this.slowStart = false;
            next = this.current + 1;
            reason = "probe";
        }
        next = clamp(next, this.min, this.max);
        this.previousThroughput = throughput;
        this.windowStart = this.now();
        this.windowCount = 0;
        this.windowLatencySum = 0;
        this.windowOverloaded = false;
        if (next !== this.current) {
            this.current = next;
            this.decisions.push({ limit: next, reason, throughput, latencyMs });
            for (const listener of this.listeners) listener(next);
        }
    }
}

function clamp(value: number, min: number, max: number): number {
    return Math.min(max, Math.max(min, Math.floor(value)));
}
