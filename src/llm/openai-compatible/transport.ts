import { RstarError } from "../../errors/index.js";

export interface HttpAnswer {
    status: number;
    headers: Headers;
    text: string;
}

export interface SendOptions {
    fetch: typeof fetch;
    url: string;
    method: "GET" | "POST";
    headers: Record<string, string>;
    body?: string;
    /** Whole-request limit, body included. @unit ms */
    timeoutMs: number;
    /** The caller's signal: aborting gives ABORTED. */
    signal?: AbortSignal | undefined;
    /** The backend's own signal, aborted by dispose(): gives BACKEND_DISPOSED. */
    disposeSignal: AbortSignal;
}

/**
 * One HTTP exchange with a timeout. Never retries. Classifies failures:
 * caller abort → ABORTED, dispose → BACKEND_DISPOSED, timeout → BACKEND_TIMEOUT (retryable),
 * refused/reset/dropped connection → BACKEND_UNAVAILABLE (retryable). Every message names the URL.
 */
export async function send(options: SendOptions): Promise<HttpAnswer> {
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(new Error(`timed out after ${options.timeoutMs} ms`)), options.timeoutMs);
    const signals = [timeout.signal, options.disposeSignal];
    if (options.signal !== undefined) signals.push(options.signal);
    const init: RequestInit = { method: options.method, headers: options.headers, signal: AbortSignal.any(signals) };
    if (options.body !== undefined) init.body = options.body;
    try {
        const response = await options.fetch(options.url, init);
        const text = await response.text();
        return { status: response.status, headers: response.headers, text };
    } catch (error) {
        throw classifyFailure(error, options, timeout.signal);
    } finally {
        clearTimeout(timer);
    }
}

export function classifyFailure(error: unknown, options: Pick<SendOptions, "url" | "timeoutMs" | "signal" | "disposeSignal">, timeoutSignal?: AbortSignal): RstarError {
    if (RstarError.isInstance(error)) return error;
    const details = { url: options.url };
    if (options.signal?.aborted) return new RstarError("ABORTED", `request to ${options.url} was aborted`, { cause: options.signal.reason, details });
    if (options.disposeSignal.aborted) return new RstarError("BACKEND_DISPOSED", `request to ${options.url} was cancelled: the backend was disposed`, { details });
    if (timeoutSignal?.aborted) {
        return new RstarError("BACKEND_TIMEOUT", `no complete answer from ${options.url} within ${options.timeoutMs} ms`, { retryable: true, cause: error, details });
    }
    return new RstarError("BACKEND_UNAVAILABLE", `cannot reach ${options.url}: ${describeNetworkError(error)}`, { retryable: true, cause: error, details });
}

/** undici wraps the useful part ("ECONNREFUSED", "other side closed") in `cause`. */
function describeNetworkError(error: unknown): string {
    const parts: string[] = [];
    let current: unknown = error;
    for (let depth = 0; depth < 4 && current !== undefined && current !== null; depth += 1) {
        if (current instanceof Error) {
            const code = (current as { code?: unknown }).code;
            parts.push(typeof code === "string" ? `${current.message} (${code})` : current.message);
            current = current.cause;
        } else {
            parts.push(String(current));
            break;
        }
    }
    return parts.join(": ") || "unknown network error";
}

/** setTimeout that an AbortSignal cuts short (rejecting with the signal's reason). */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
        if (signal?.aborted) {
            reject(signal.reason);
            return;
        }
        const onAbort = () => {
            clearTimeout(timer);
            reject(signal?.reason);
        };
        const timer = setTimeout(() => {
            signal?.removeEventListener("abort", onAbort);
            resolve();
        }, ms);
        signal?.addEventListener("abort", onAbort, { once: true });
    });
}
