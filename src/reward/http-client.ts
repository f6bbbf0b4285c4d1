import { RstarError } from "../errors/index.js";
import {
    REWARD_HTTP_PROFILE,
    RetryingJsonClient,
    httpStatusError,
    integerOption,
    resolveHttpSettings,
    type HttpSettingsOptions,
    type ResolvedHttpSettings,
    type RetryEvent,
} from "../llm/index.js";

/**
 * Transport options shared by the HTTP reward backends: the same resolver and retry rules as the OpenAI-compatible
 * policy backend ({@link HttpSettingsOptions}), with env prefix `RSTAR_REWARD` (`RSTAR_REWARD_BASE_URL`,
 * `RSTAR_REWARD_MODEL`, `RSTAR_REWARD_API_KEY`, `RSTAR_REWARD_TIMEOUT_MS`, `RSTAR_REWARD_MAX_RETRIES`,
 * `RSTAR_REWARD_MAX_IN_FLIGHT`). Defaults: timeout 120000 ms, 16 requests in flight. `baseURL` is the server root,
 * e.g. `http://127.0.0.1:8001`: vLLM serves `/pooling` at the root, so a trailing `/v1` is dropped.
 */
export interface HttpRewardOptions extends HttpSettingsOptions {
    /** Most items per HTTP request; a larger `score` call is split. Defaults to 32. */
    maxItemsPerRequest?: number;
    /** JSON fields merged last into every request body; a field set to `undefined` is dropped. */
    extraBody?: Record<string, unknown>;
    fetch?: typeof fetch;
    sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
    random?: () => number;
    onRetry?: (event: RetryEvent) => void;
}

export interface ResolvedHttpRewardOptions extends ResolvedHttpSettings {
    maxItemsPerRequest: number;
    extraBody: Record<string, unknown>;
}

export function resolveHttpRewardOptions(options: HttpRewardOptions): ResolvedHttpRewardOptions {
    return {
        ...resolveHttpSettings(options, REWARD_HTTP_PROFILE),
        maxItemsPerRequest: integerOption("maxItemsPerRequest", options.maxItemsPerRequest, 32, 1),
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
