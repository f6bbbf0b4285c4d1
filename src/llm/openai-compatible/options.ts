import type { RstarError } from "../../errors/index.js";
import { LLM_HTTP_PROFILE, resolveHttpSettings, type HttpSettingsOptions, type ResolvedHttpSettings } from "./http-settings.js";
import type { StopResolver } from "./stop-resolution.js";

/** A retry the backend is about to make, for logging and tests. */
export interface RetryEvent {
    url: string;
    /** 1 for the first retry. */
    retry: number;
    delayMs: number;
    error: RstarError;
}

/**
 * Options of {@link OpenAiCompatibleBackend}. The transport settings (URL, model, key, timeout, retries, in-flight
 * cap) are {@link HttpSettingsOptions}, resolved by the one resolver every HTTP client shares with env prefix
 * `RSTAR_LLM` (`RSTAR_LLM_BASE_URL`, `RSTAR_LLM_MODEL`, `RSTAR_LLM_API_KEY`, `RSTAR_LLM_TIMEOUT_MS`,
 * `RSTAR_LLM_MAX_RETRIES`, `RSTAR_LLM_MAX_IN_FLIGHT`). Defaults: timeout 300000 ms, 64 requests in flight.
 * `baseURL` is as OpenAI clients take it, e.g. `http://127.0.0.1:8000/v1`; requests go to `{baseURL}/completions`.
 */
export interface OpenAiCompatibleOptions extends HttpSettingsOptions {
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
}

export interface ResolvedOptions extends ResolvedHttpSettings {
    extraBody: Record<string, unknown>;
    nStrategy: "auto" | "native" | "parallel";
}

export const defaultExtraBody: Readonly<Record<string, unknown>> = { skip_special_tokens: false };

export function resolveOptions(options: OpenAiCompatibleOptions): ResolvedOptions {
    return {
        ...resolveHttpSettings(options, LLM_HTTP_PROFILE),
        extraBody: { ...defaultExtraBody, ...options.extraBody },
        nStrategy: options.nStrategy ?? "auto",
    };
}
