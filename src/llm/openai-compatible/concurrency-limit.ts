import { RstarError } from "../../errors/index.js";

/**
 * A counting semaphore: at most `limit` holders at once, waiters served first come, first served.
 * Waiting honours an AbortSignal (the waiter leaves the queue and the call rejects with ABORTED).
 */
export class ConcurrencyLimit {
    private active = 0;
    private readonly waiters: { resolve: () => void; reject: (error: unknown) => void; signal: AbortSignal | undefined; onAbort: () => void }[] = [];

    constructor(readonly limit: number) {
        if (!Number.isInteger(limit) || limit < 1) throw new RstarError("INVALID_ARGUMENT", `in-flight limit must be an integer >= 1, got ${limit}`);
    }

    /** Number of current holders. */
    get inFlight(): number {
        return this.active;
    }

    /** Waits for a slot; call the returned function exactly once to give it back. */
    async acquire(signal?: AbortSignal): Promise<() => void> {
        if (signal?.aborted) throw abortedError(signal);
        if (this.active < this.limit) {
            this.active += 1;
            return this.releaser();
        }
        await new Promise<void>((resolve, reject) => {
            const waiter = {
                resolve,
                reject,
                signal,
                onAbort: () => {
                    const position = this.waiters.indexOf(waiter);
                    if (position >= 0) this.waiters.splice(position, 1);
                    reject(abortedError(signal));
                },
            };
            signal?.addEventListener("abort", waiter.onAbort, { once: true });
            this.waiters.push(waiter);
        });
        return this.releaser();
    }

    private releaser(): () => void {
        let released = false;
        return () => {
            if (released) return;
            released = true;
            const next = this.waiters.shift();
            if (next === undefined) {
                this.active -= 1;
                return;
            }
            // hand the slot straight to the next waiter: `active` stays the same
            next.signal?.removeEventListener("abort", next.onAbort);
            next.resolve();
        };
    }
}

function abortedError(signal: AbortSignal | undefined): RstarError {
    return new RstarError("ABORTED", "the call was aborted while waiting for a free request slot", { cause: signal?.reason });
}
