import { RstarError } from "../../errors/index.js";
import type { StopResolver } from "./stop-resolution.js";

/** A retry the backend is about to make, for logging and tests. */
export interface RetryEvent {
    url: string;
    /** 1 for the first retry. */
    retry: number;
    delayMs: number;
    error: RstarError;
}

/** Options of {@link OpenAiCompatibleBackend}. Each resolves as: explicit value → `RSTAR_LLM_*` env var → default. */
export interface OpenAiCompatibleOptions {
    /**
     * Base URL(s) as OpenAI clients take them, e.g. `http://127.0.0.1:8000/v1`; requests go to `{baseURL}/completions`
     * and `{baseURL}/models`. Several URLs serving the same model are balanced by load.
     * Env `RSTAR_LLM_BASE_URL` (comma-separated). Required.
     */
    baseURL?: string | readonly string[];
    /** Model name sent with every request. Env `RSTAR_LLM_MODEL`. Required. */
    model?: string;
    /** Sent as `Authorization: Bearer …` when set. Env `RSTAR_LLM_API_KEY`. Defaults to none. */
    apiKey?: string;
    /** Limit for one HTTP request, body included. Env `RSTAR_LLM_TIMEOUT_MS`. Defaults to 300000. @unit ms */
    timeoutMs?: number;
    /** Retries after the first attempt, on 408/409/429/5xx, timeouts and dropped connections. Env `RSTAR_LLM_MAX_RETRIES`. Defaults to 4. */
    maxRetries?: number;
    /** Backoff before the first retry (doubled each retry, with jitter). Defaults to 500. @unit ms */
    retryBaseDelayMs?: number;
    /** Cap on any single backoff or `retry-after` wait. Defaults to 30000. @unit ms */
    retryMaxDelayMs?: number;
    /** Requests in flight at once across all endpoints and calls of this backend. Env `RSTAR_LLM_MAX_IN_FLIGHT`. Defaults to 64. */
    maxInFlight?: number;
    /** How long an endpoint that just failed is skipped while others are available. Defaults to 5000. @unit ms */
    endpointCooldownMs?: number;
    /**
     * Extra JSON fields merged into every completion request (after the standard ones, so they can override them).
     * A field set to `undefined` is dropped. Defaults to `{ skip_special_tokens: false }` (vLLM and SGLang keep special
     * tokens in the text; llama.cpp's server and Ollama ignore unknown fields).
     */
    extraBody?: Record<string, unknown>;
    /**
     * How to get `n` completions. "native": one request with `n`. "parallel": `n` requests with `n` = 1 and seeds
     * `seed`, `seed + 1`, …. "auto" (default): native, switching this backend to parallel for good when the server
     * rejects `n` (llama.cpp's server) or returns fewer choices than asked (Ollama).
     */
    nStrategy?: "auto" | "native" | "parallel";
    /** Picks the stop string when the server does not report it; see `resolveStop`. Defaults to the first candidate. */
    resolveStop?: StopResolver;
    /** HTTP transport. Defaults to the global `fetch` (undici). */
    fetch?: typeof fetch;
    /** Wait used between retries; tests pass one that records delays instead of sleeping. */
    sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
    /** Randomness for jitter, in [0, 1). Defaults to `Math.random`. */
    random?: () => number;
    /** Called before each retry. */
    onRetry?: (event: RetryEvent) => void;
    /** Environment to read `RSTAR_LLM_*` from. Defaults to `process.env`. */
    env?: Record<string, string | undefined>;
}

export interface ResolvedOptions {
    baseURLs: string[];
    model: string;
    apiKey: string | undefined;
    timeoutMs: number;
    maxRetries: number;
    retryBaseDelayMs: number;
    retryMaxDelayMs: number;
    maxInFlight: number;
    endpointCooldownMs: number;
    extraBody: Record<string, unknown>;
    nStrategy: "auto" | "native" | "parallel";
}

export const defaultExtraBody: Readonly<Record<string, unknown>> = { skip_special_tokens: false };

export function resolveOptions(options: OpenAiCompatibleOptions): ResolvedOptions {
    const env = options.env ?? process.env;
    const rawURLs = options.baseURL ?? env["RSTAR_LLM_BASE_URL"]?.split(",");
    const baseURLs = (typeof rawURLs === "string" ? [rawURLs] : [...(rawURLs ?? [])]).map((url) => url.trim()).filter((url) => url !== "");
    if (baseURLs.length === 0) {
        throw new RstarError("CONFIG_INVALID", "no LLM server URL: pass baseURL (e.g. http://127.0.0.1:8000/v1) or set RSTAR_LLM_BASE_URL");
    }
    const normalized = baseURLs.map((url) => {
        let parsed: URL;
        try {
            parsed = new URL(url);
        } catch {
            throw new RstarError("CONFIG_INVALID", `LLM server URL "${url}" is not a valid URL (expected e.g. http://127.0.0.1:8000/v1)`);
        }
        if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
            throw new RstarError("CONFIG_INVALID", `LLM server URL "${url}" must use http or https`);
        }
        return url.replace(/\/+$/, "");
    });
    const model = options.model ?? env["RSTAR_LLM_MODEL"];
    if (model === undefined || model === "") {
        throw new RstarError("CONFIG_INVALID", "no model name: pass model or set RSTAR_LLM_MODEL (GET <baseURL>/models lists what a server offers)");
    }
    return {
        baseURLs: normalized,
        model,
        apiKey: options.apiKey ?? env["RSTAR_LLM_API_KEY"],
        timeoutMs: numberSetting("timeoutMs", options.timeoutMs, env, "RSTAR_LLM_TIMEOUT_MS", 300_000, 1),
        maxRetries: numberSetting("maxRetries", options.maxRetries, env, "RSTAR_LLM_MAX_RETRIES", 4, 0),
        retryBaseDelayMs: numberSetting("retryBaseDelayMs", options.retryBaseDelayMs, env, undefined, 500, 0),
        retryMaxDelayMs: numberSetting("retryMaxDelayMs", options.retryMaxDelayMs, env, undefined, 30_000, 0),
        maxInFlight: numberSetting("maxInFlight", options.maxInFlight, env, "RSTAR_LLM_MAX_IN_FLIGHT", 64, 1),
        endpointCooldownMs: numberSetting("endpointCooldownMs", options.endpointCooldownMs, env, undefined, 5_000, 0),
        extraBody: { ...defaultExtraBody, ...options.extraBody },
        nStrategy: options.nStrategy ?? "auto",
    };
}

function numberSetting(
    name: string,
    value: number | undefined,
    env: Record<string, string | undefined>,
    envName: string | undefined,
    fallback: number,
    minimum: number,
): number {
    const fromEnv = envName === undefined ? undefined : env[envName];
    const resolved = value ?? (fromEnv === undefined || fromEnv === "" ? fallback : Number(fromEnv));
    if (!Number.isInteger(resolved) || resolved < minimum) {
        const source = value !== undefined || envName === undefined ? `option ${name}` : `${envName} (or option ${name})`;
        throw new RstarError("CONFIG_INVALID", `${source} must be an integer >= ${minimum}, got ${value ?? fromEnv}`);
    }
    return resolved;
}
