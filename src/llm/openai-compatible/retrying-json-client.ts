import { RstarError } from "../../errors/index.js";
import { ConcurrencyLimit } from "./concurrency-limit.js";
import { EndpointPool, type Endpoint } from "./endpoint-pool.js";
import type { RetryEvent } from "./options.js";
import { parseRetryAfter, retryDelay } from "./retry-policy.js";
import { abortableSleep, classifyFailure, send } from "./transport.js";
import { parseJson } from "../../util/index.js";
import { invalidResponseError } from "./wire-errors.js";

/** The transport settings every JSON-over-HTTP backend here shares. */
export interface RetryingJsonClientSettings {
    baseURLs: readonly string[];
    apiKey: string | undefined;
    timeoutMs: number;
    maxRetries: number;
    retryBaseDelayMs: number;
    retryMaxDelayMs: number;
    maxInFlight: number;
    endpointCooldownMs: number;
}

export interface RetryingJsonClientHooks {
    fetch?: typeof fetch | undefined;
    sleep?: ((ms: number, signal?: AbortSignal) => Promise<void>) | undefined;
    random?: (() => number) | undefined;
    onRetry?: ((event: RetryEvent) => void) | undefined;
    /** Names the client in errors, e.g. "backend openai:http://…" or "reward model ppm-http:…". */
    describe: string;
    /** What was aborted, for the ABORTED error: "generate", "scoring". */
    operation: string;
    /** Maps a non-2xx answer to an error (the backend's own wording and hints). */
    statusError: (url: string, status: number, text: string, path: string) => RstarError;
}

/**
 * One logical JSON request over HTTP with the project's rules: a per-attempt timeout; retries with equal-jitter
 * backoff and `retry-after` on 408/409/429/5xx, timeouts and dropped connections; a FIFO cap on requests in flight;
 * the least-loaded endpoint with a cool-down after failures; and errors that name the URL. Used by the
 * OpenAI-compatible policy backend and the HTTP reward backends.
 */
export class RetryingJsonClient {
    private readonly pool: EndpointPool;
    private readonly limit: ConcurrencyLimit;
    private readonly fetchImpl: typeof fetch;
    private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
    private readonly random: () => number;
    private readonly disposal = new AbortController();

    constructor(
        readonly settings: RetryingJsonClientSettings,
        private readonly hooks: RetryingJsonClientHooks,
    ) {
        this.pool = new EndpointPool([...settings.baseURLs], settings.endpointCooldownMs);
        this.limit = new ConcurrencyLimit(settings.maxInFlight);
        this.fetchImpl = hooks.fetch ?? globalThis.fetch;
        this.sleep = hooks.sleep ?? abortableSleep;
        this.random = hooks.random ?? Math.random;
    }

    get disposed(): boolean {
        return this.disposal.signal.aborted;
    }

    /** Requests in flight right now, over all endpoints. */
    get inFlight(): number {
        return this.limit.inFlight;
    }

    /** Rejects requests waiting or in flight with BACKEND_DISPOSED; later requests fail at once. */
    dispose(): void {
        this.disposal.abort(this.disposedError());
    }

    /** Resolves with the parsed JSON body of a 2xx answer, after retries; rejects with an RstarError naming the URL. */
    async request(path: string, method: "GET" | "POST", body: unknown, signal: AbortSignal | undefined): Promise<{ url: string; value: unknown; text: string }> {
        if (this.disposed) throw this.disposedError();
        const headers: Record<string, string> = { accept: "application/json" };
        if (body !== undefined) headers["content-type"] = "application/json";
        if (this.settings.apiKey !== undefined) headers["authorization"] = `Bearer ${this.settings.apiKey}`;
        const payload = body === undefined ? undefined : JSON.stringify(body);
        const waitSignal = signal === undefined ? this.disposal.signal : AbortSignal.any([signal, this.disposal.signal]);

        for (let attempt = 0; ; attempt += 1) {
            const release = await this.limit.acquire(waitSignal).catch((error: unknown) => {
                throw this.interruption(signal) ?? error;
            });
            const endpoint = this.pool.pick();
            const url = endpoint.baseURL + path;
            endpoint.inFlight += 1;
            let error: RstarError;
            let retryAfterMs: number | undefined;
            try {
                const answer = await send({
                    fetch: this.fetchImpl,
                    url,
                    method,
                    headers,
                    timeoutMs: this.settings.timeoutMs,
                    signal,
                    disposeSignal: this.disposal.signal,
                    ...(payload === undefined ? {} : { body: payload }),
                });
                if (answer.status >= 200 && answer.status < 300) {
                    this.pool.markSuccess(endpoint);
                    const parsed = parseJson(answer.text);
                    if (!parsed.ok) throw invalidResponseError(url, parsed.error, answer.text);
                    return { url, value: parsed.value, text: answer.text };
                }
                error = this.hooks.statusError(url, answer.status, answer.text, path);
                retryAfterMs = parseRetryAfter(answer.headers.get("retry-after"));
            } catch (caught) {
                error = RstarError.isInstance(caught) ? caught : classifyFailure(caught, { url, timeoutMs: this.settings.timeoutMs, signal, disposeSignal: this.disposal.signal });
            } finally {
                endpoint.inFlight -= 1;
                release();
            }
            if (!error.retryable) throw error;
            this.noteFailure(endpoint);
            if (attempt >= this.settings.maxRetries) {
                throw new RstarError(error.code, `${error.message} (gave up after ${attempt + 1} attempts)`, {
                    cause: error,
                    retryable: true,
                    details: { ...error.details, attempts: attempt + 1 },
                });
            }
            const delayMs = retryDelay(attempt, { baseDelayMs: this.settings.retryBaseDelayMs, maxDelayMs: this.settings.retryMaxDelayMs, random: this.random }, retryAfterMs);
            this.hooks.onRetry?.({ url, retry: attempt + 1, delayMs, error });
            try {
                await this.sleep(delayMs, waitSignal);
            } catch (sleepError) {
                throw this.interruption(signal) ?? sleepError;
            }
        }
    }

    private noteFailure(endpoint: Endpoint): void {
        // with a single endpoint there is nothing to fail over to, so cooling it down would only skew balancing stats
        if (this.pool.endpoints.length > 1) this.pool.markFailure(endpoint);
    }

    private interruption(signal: AbortSignal | undefined): RstarError | undefined {
        if (signal?.aborted) return new RstarError("ABORTED", `${this.hooks.operation} was aborted`, { cause: signal.reason });
        if (this.disposed) return this.disposedError();
        return undefined;
    }

    private disposedError(): RstarError {
        return new RstarError("BACKEND_DISPOSED", `${this.hooks.describe} was disposed`);
    }
}
