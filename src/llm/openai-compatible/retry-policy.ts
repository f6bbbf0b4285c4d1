/** HTTP statuses worth retrying: request timeout, conflict, rate limit, and every server error. */
export function isRetryableStatus(status: number): boolean {
    return status === 408 || status === 409 || status === 429 || status >= 500;
}

/**
 * Reads a `retry-after` header: delay-seconds (`"2"`, `"0.5"`) or an HTTP date. Returns milliseconds to wait,
 * or `undefined` when the header is absent or unreadable. A date in the past gives 0.
 */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
    if (value === null || value === undefined) return undefined;
    const trimmed = value.trim();
    if (trimmed === "") return undefined;
    if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
    const date = Date.parse(trimmed);
    if (Number.isNaN(date)) return undefined;
    return Math.max(0, date - now);
}

export interface BackoffSettings {
    /** Delay before the first retry, before jitter. @unit ms */
    baseDelayMs: number;
    /** Upper bound for any single delay, including one asked for by `retry-after`. @unit ms */
    maxDelayMs: number;
    /** Source of randomness in [0, 1) for jitter. */
    random: () => number;
}

/**
 * Delay before retry number `retry` (0 for the first retry): exponential backoff with "equal jitter",
 * i.e. half of `base * 2^retry` fixed plus a random share of the other half, capped at `maxDelayMs`.
 * A server's `retry-after` wins over the computed delay (still capped).
 */
export function retryDelay(retry: number, settings: BackoffSettings, retryAfterMs?: number): number {
    if (retryAfterMs !== undefined) return Math.min(retryAfterMs, settings.maxDelayMs);
    const exponential = Math.min(settings.maxDelayMs, settings.baseDelayMs * 2 ** retry);
    return Math.round(exponential / 2 + (settings.random() * exponential) / 2);
}
