import { RstarError } from "../../errors/index.js";

/**
 * The transport settings every HTTP client here takes (the policy backend and the reward backends alike). Each
 * resolves as: explicit value → `<PREFIX>_*` env var → the profile's default.
 */
export interface HttpSettingsOptions {
    /** Base URL(s); several URLs serving the same model are balanced by load. Env `<PREFIX>_BASE_URL` (comma-separated). Required. */
    baseURL?: string | readonly string[];
    /** Model name sent with every request. Env `<PREFIX>_MODEL`. Required. */
    model?: string;
    /** Sent as `Authorization: Bearer …` when set. Env `<PREFIX>_API_KEY`. */
    apiKey?: string;
    /** Limit for one HTTP request, body included. Env `<PREFIX>_TIMEOUT_MS`. @unit ms */
    timeoutMs?: number;
    /** Retries after the first attempt, on 408/409/429/5xx, timeouts and dropped connections. Env `<PREFIX>_MAX_RETRIES`. Defaults to 4. */
    maxRetries?: number;
    /** Backoff before the first retry (doubled each retry, with jitter). Defaults to 500. @unit ms */
    retryBaseDelayMs?: number;
    /** Cap on any single backoff or `retry-after` wait. Defaults to 30000. @unit ms */
    retryMaxDelayMs?: number;
    /** Requests in flight at once over all endpoints. Env `<PREFIX>_MAX_IN_FLIGHT`. */
    maxInFlight?: number;
    /** How long an endpoint that just failed is skipped while others are available. Defaults to 5000. @unit ms */
    endpointCooldownMs?: number;
    /** Environment to read the `<PREFIX>_*` variables from. Defaults to `process.env`. */
    env?: Record<string, string | undefined>;
}

/** The resolved settings; a `RetryingJsonClientSettings` plus the model. */
export interface ResolvedHttpSettings {
    baseURLs: string[];
    model: string;
    apiKey: string | undefined;
    timeoutMs: number;
    maxRetries: number;
    retryBaseDelayMs: number;
    retryMaxDelayMs: number;
    maxInFlight: number;
    endpointCooldownMs: number;
}

/** What differs between the clients: env prefix, wording, defaults and how a base URL is normalized. */
export interface HttpSettingsProfile {
    /** `RSTAR_LLM` or `RSTAR_REWARD`. */
    envPrefix: string;
    /** Names the server in messages, e.g. "LLM server". */
    server: string;
    /** Names the model in messages, e.g. "model name". */
    modelNoun: string;
    exampleURL: string;
    /** Where a server lists its models, for the hint, e.g. "<baseURL>/models". */
    modelsPath: string;
    defaults: { timeoutMs: number; maxInFlight: number };
    /** Applied to each URL after the trailing slashes are dropped. */
    normalizeURL?: (url: string) => string;
}

export const LLM_HTTP_PROFILE: HttpSettingsProfile = {
    envPrefix: "RSTAR_LLM",
    server: "LLM server",
    modelNoun: "model name",
    exampleURL: "http://127.0.0.1:8000/v1",
    modelsPath: "<baseURL>/models",
    defaults: { timeoutMs: 300_000, maxInFlight: 64 },
};

/** vLLM serves `/pooling` at the root, so a trailing `/v1` is dropped. */
export const REWARD_HTTP_PROFILE: HttpSettingsProfile = {
    envPrefix: "RSTAR_REWARD",
    server: "reward-model server",
    modelNoun: "reward model name",
    exampleURL: "http://127.0.0.1:8001",
    modelsPath: "<baseURL>/v1/models",
    defaults: { timeoutMs: 120_000, maxInFlight: 16 },
    normalizeURL: (url) => url.replace(/\/v1$/, ""),
};

/** The one resolver of URL, model, key, timeouts, retries and concurrency for every HTTP client. */
export function resolveHttpSettings(options: HttpSettingsOptions, profile: HttpSettingsProfile): ResolvedHttpSettings {
    const env = options.env ?? process.env;
    const prefix = profile.envPrefix;
    const raw = options.baseURL ?? env[`${prefix}_BASE_URL`]?.split(",");
    const urls = (typeof raw === "string" ? [raw] : [...(raw ?? [])]).map((url) => url.trim()).filter((url) => url !== "");
    if (urls.length === 0) throw new RstarError("CONFIG_INVALID", `no ${profile.server} URL: pass baseURL (e.g. ${profile.exampleURL}) or set ${prefix}_BASE_URL`);
    const baseURLs = urls.map((url) => {
        let parsed: URL;
        try {
            parsed = new URL(url);
        } catch {
            throw new RstarError("CONFIG_INVALID", `${profile.server} URL "${url}" is not a valid URL (expected e.g. ${profile.exampleURL})`);
        }
        if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw new RstarError("CONFIG_INVALID", `${profile.server} URL "${url}" must use http or https`);
        const trimmed = url.replace(/\/+$/, "");
        return profile.normalizeURL === undefined ? trimmed : profile.normalizeURL(trimmed);
    });
    const model = options.model ?? env[`${prefix}_MODEL`];
    if (model === undefined || model === "") {
        throw new RstarError("CONFIG_INVALID", `no ${profile.modelNoun}: pass model or set ${prefix}_MODEL (GET ${profile.modelsPath} lists what a server offers)`);
    }
    const setting = (name: string, value: number | undefined, envName: string | undefined, fallback: number, minimum: number): number => {
        const fromEnv = envName === undefined ? undefined : env[envName];
        const resolved = value ?? (fromEnv === undefined || fromEnv === "" ? fallback : Number(fromEnv));
        if (!Number.isInteger(resolved) || resolved < minimum) {
            const source = value !== undefined || envName === undefined ? `option ${name}` : `${envName} (or option ${name})`;
            throw new RstarError("CONFIG_INVALID", `${source} must be an integer >= ${minimum}, got ${value ?? fromEnv}`);
        }
        return resolved;
    };
    return {
        baseURLs,
        model,
        apiKey: options.apiKey ?? env[`${prefix}_API_KEY`],
        timeoutMs: setting("timeoutMs", options.timeoutMs, `${prefix}_TIMEOUT_MS`, profile.defaults.timeoutMs, 1),
        maxRetries: setting("maxRetries", options.maxRetries, `${prefix}_MAX_RETRIES`, 4, 0),
        retryBaseDelayMs: setting("retryBaseDelayMs", options.retryBaseDelayMs, undefined, 500, 0),
        retryMaxDelayMs: setting("retryMaxDelayMs", options.retryMaxDelayMs, undefined, 30_000, 0),
        maxInFlight: setting("maxInFlight", options.maxInFlight, `${prefix}_MAX_IN_FLIGHT`, profile.defaults.maxInFlight, 1),
        endpointCooldownMs: setting("endpointCooldownMs", options.endpointCooldownMs, undefined, 5_000, 0),
    };
}

/** An integer option (no env var) at least `minimum`, for client-specific settings beside the shared ones. */
export function integerOption(name: string, value: number | undefined, fallback: number, minimum: number): number {
    const resolved = value ?? fallback;
    if (!Number.isInteger(resolved) || resolved < minimum) throw new RstarError("CONFIG_INVALID", `option ${name} must be an integer >= ${minimum}, got ${value}`);
    return resolved;
}
