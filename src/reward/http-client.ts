import { RstarError } from "../errors/index.js";
import { RetryingJsonClient, httpStatusError, type RetryEvent } from "../llm/index.js";

/** Transport options shared by the HTTP reward backends. Same retry rules as the OpenAI-compatible policy backend. */
export interface HttpRewardOptions {
    /**
     * Server root(s), e.g. `http://127.0.0.1:8001`. vLLM serves `/pooling` at the root, so a trailing `/v1` is dropped.
     * Several URLs serving the same model are balanced by load. Env `RSTAR_REWARD_BASE_URL` (comma-separated).
     */
    baseURL?: string | readonly string[];
    /** Model name sent with every request, as the server lists it. Env `RSTAR_REWARD_MODEL`. Required. */
    model?: string;
    /** Sent as `Authorization: Bearer …`. Env `RSTAR_REWARD_API_KEY`. */
    apiKey?: string;
    /** Limit per HTTP request, body included. Defaults to 120000. @unit ms */
    timeoutMs?: number;
    /** Retries after the first attempt on 408/409/429/5xx, timeouts and dropped connections. Defaults to 4. */
    maxRetries?: number;
    /** Defaults to 500. @unit ms */
    retryBaseDelayMs?: number;
    /** Defaults to 30000. @unit ms */
    retryMaxDelayMs?: number;
    /** Requests in flight at once over all endpoints. Defaults to 16. */
    maxInFlight?: number;
    /** Defaults to 5000. @unit ms */
    endpointCooldownMs?: number;
    /** Most items per HTTP request; a larger `score` call is split. Defaults to 32. */
    maxItemsPerRequest?: number;
    /** JSON fields merged last into every request body; a field set to `undefined` is dropped. */
    extraBody?: Record<string, unknown>;
    fetch?: typeof fetch;
    sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
    random?: () => number;
    onRetry?: (event: RetryEvent) => void;
    env?: Record<string, string | undefined>;
}

export interface ResolvedHttpRewardOptions {
    baseURLs: string[];
    model: string;
    apiKey: string | undefined;
    timeoutMs: number;
    maxRetries: number;
    retryBaseDelayMs: number;
    retryMaxDelayMs: number;
    maxInFlight: number;
    endpointCooldownMs: number;
    maxItemsPerRequest: number;
    extraBody: Record<string, unknown>;
}

export function resolveHttpRewardOptions(options: HttpRewardOptions): ResolvedHttpRewardOptions {
    const env = options.env ?? process.env;
    const raw = options.baseURL ?? env["RSTAR_REWARD_BASE_URL"]?.split(",");
    const urls = (typeof raw === "string" ? [raw] : [...(raw ?? [])]).map((url) => url.trim()).filter((url) => url !== "");
    if (urls.length === 0) throw new RstarError("CONFIG_INVALID", "no reward-model server URL: pass baseURL (e.g. http://127.0.0.1:8001) or set RSTAR_REWARD_BASE_URL");
    const baseURLs = urls.map((url) => {
        let parsed: URL;
        try {
            parsed = new URL(url);
        } catch {
            throw new RstarError("CONFIG_INVALID", `reward-model server URL "${url}" is not a valid URL (expected e.g. http://127.0.0.1:8001)`);
        }
        if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw new RstarError("CONFIG_INVALID", `reward-model server URL "${url}" must use http or https`);
        return url.replace(/\/+$/, "").replace(/\/v1$/, "");
    });
    const model = options.model ?? env["RSTAR_REWARD_MODEL"];
    if (model === undefined || model === "") throw new RstarError("CONFIG_INVALID", "no reward model name: pass model or set RSTAR_REWARD_MODEL (GET <baseURL>/v1/models lists what a server offers)");
    const int = (name: string, value: number | undefined, fallback: number, minimum: number): number => {
        const resolved = value ?? fallback;
        if (!Number.isInteger(resolved) || resolved < minimum) throw new RstarError("CONFIG_INVALID", `option ${name} must be an integer >= ${minimum}, got ${value}`);
        return resolved;
    };
    return {
        baseURLs,
        model,
        apiKey: options.apiKey ?? env["RSTAR_REWARD_API_KEY"],
        timeoutMs: int("timeoutMs", options.timeoutMs, 120_000, 1),
        maxRetries: int("maxRetries", options.maxRetries, 4, 0),
        retryBaseDelayMs: int("retryBaseDelayMs", options.retryBaseDelayMs, 500, 0),
        retryMaxDelayMs: int("retryMaxDelayMs", options.retryMaxDelayMs, 30_000, 0),
        maxInFlight: int("maxInFlight", options.maxInFlight, 16, 1),
        endpointCooldownMs: int("endpointCooldownMs", options.endpointCooldownMs, 5_000, 0),
        maxItemsPerRequest: int("maxItemsPerRequest", options.maxItemsPerRequest, 32, 1),
        extraBody: { ...options.extraBody },
    };
}

/**
 * The HTTP client of the reward backends: the policy backend's transport (`RetryingJsonClient`: per-attempt timeout,
 * retries with backoff and `retry-after`, a FIFO in-flight cap, least-loaded endpoint with cool-down, errors naming
 * the URL) with the reward backends' wording and a pooling-specific hint for 404s.
 */
export class RewardHttpClient extends RetryingJsonClient {
    private readonly rewardName: string;

    constructor(
        override readonly settings: ResolvedHttpRewardOptions,
        hooks: Pick<HttpRewardOptions, "fetch" | "sleep" | "random" | "onRetry"> & { describe: string },
    ) {
        super(settings, {
            ...hooks,
            describe: `reward model ${hooks.describe}`,
            operation: "scoring",
            statusError: (url, status, text, path) => statusError(url, status, text, settings.model, path),
        });
        this.rewardName = hooks.describe;
    }

    assertUsable(): void {
        if (this.disposed) throw new RstarError("BACKEND_DISPOSED", `reward model ${this.rewardName} was disposed`);
    }
}

/** The policy backend's status mapping, with a pooling-specific hint for a 404 on the path itself. */
function statusError(url: string, status: number, text: string, model: string, path: string): RstarError {
    const error = httpStatusError(url, status, text, model);
    if (status === 404 && error.code === "BACKEND_HTTP") {
        return new RstarError(
            "BACKEND_HTTP",
            `HTTP 404 from ${url}: the server has no ${path} endpoint (give the server root as baseURL, e.g. http://127.0.0.1:8001; vLLM serves /pooling only for models run with --runner pooling)`,
            { details: error.details },
        );
    }
    if (status === 400 || status === 422) {
        // vLLM answers 400 for inputs longer than max_model_len and for unsupported tasks: the message says which.
        return new RstarError(error.code, error.message, { details: error.details, retryable: false });
    }
    return error;
}

/** Runs `work` over consecutive slices of at most `size` items, concurrently, and concatenates the results in order. */
export async function inChunks<T, R>(items: readonly T[], size: number, work: (chunk: T[]) => Promise<R[]>): Promise<R[]> {
    const chunks: T[][] = [];
    for (let start = 0; start < items.length; start += size) chunks.push(items.slice(start, start + size));
    const results = await Promise.all(chunks.map((chunk) => work(chunk)));
    return results.flat();
}
