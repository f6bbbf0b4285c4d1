/**
 * The policy-backend contract (spec only: no implementation lives in this file).
 *
 * Search code imports these types and never a concrete backend. A backend turns one prompt plus sampling settings
 * into `n` candidate continuations, each cut at a stop string (or at the token limit), which tree search then scores.
 */

/**
 * Version of this contract. Bumped (never reused) when a change would break an existing backend or caller;
 * a backend states the version it implements so a mismatch fails at construction, not mid-search.
 */
export const LLM_BACKEND_SPEC_VERSION = "rstar-llm-backend/1" as const;
export type LlmBackendSpecVersion = typeof LLM_BACKEND_SPEC_VERSION;

/** Sampling settings for one generate call. Field names follow TypeScript style; backends map them to the wire. */
export interface SamplingSettings {
    /** How many independent completions to return. Integer, at least 1. */
    n: number;
    /** Softmax temperature; 0 means greedy (deterministic on deterministic backends). */
    temperature: number;
    /** Nucleus sampling mass, in (0, 1]. */
    topP: number;
    /** Most tokens to generate per completion, at least 1. @unit tokens */
    maxTokens: number;
    /**
     * Stop strings. Generation of a completion ends at the first occurrence of any of them.
     * Order matters only as the documented tie-break when a backend cannot tell which one matched
     * (see {@link Completion.stopInferred}): put the most likely stop first.
     */
    stop: readonly string[];
    /**
     * Seed for sampling. With the same prompt, settings and seed, a deterministic backend returns the same completions.
     * Omitted: the backend picks (results are then not reproducible).
     */
    seed?: number;
}

/** One generate call: a raw prompt (no chat template is applied by the contract) and its sampling settings. */
export interface GenerateRequest extends SamplingSettings {
    /** The full prompt text, sent as-is. */
    prompt: string;
    /** Aborting rejects the call with an `ABORTED` RstarError as soon as the backend can notice it. */
    signal?: AbortSignal;
    /**
     * Optional progress: called with completion `index` and the next piece of its text as it is generated. The pieces
     * of one completion, joined, are a prefix of its final `text` (never the stop string). A backend that cannot
     * stream never calls it; callers must take the rest of the text from the result.
     */
    onText?: (index: number, text: string) => void;
}

/** Why a completion ended: at a stop string / end-of-sequence ("stop") or at `maxTokens` ("length"). */
export type FinishReason = "stop" | "length";

/** One candidate continuation. */
export interface Completion {
    /** Position among the call's completions, 0-based and dense (0..n-1). */
    index: number;
    /** The generated text. It NEVER includes the stop string that ended it: that string is in `stop`. */
    text: string;
    finishReason: FinishReason;
    /**
     * The stop string that ended the completion; `null` when it ended at the token limit (`finishReason` "length"),
     * at end-of-sequence, or at a stop token id rather than a stop string.
     */
    stop: string | null;
    /**
     * True when the server did not say which stop string matched and the backend chose one by its documented rule
     * (see docs/llm-backends.md, "Which stop matched"). False when the server reported it or the text showed it.
     */
    stopInferred: boolean;
}

/** Token counts as reported by the server, summed over every request a call needed. */
export interface TokenUsage {
    promptTokens: number;
    completionTokens: number;
    totalTokens: number;
}

/** Result of one generate call. */
export interface GenerateResult {
    /** Exactly `request.n` completions, ordered by `index`. */
    completions: Completion[];
    /** Token usage, or `null` when the server did not report it. */
    usage: TokenUsage | null;
    /** The model name that served the call, as the server reported it (or as configured when it did not). */
    model: string;
}

/** One model a server offers, from its model list. */
export interface ModelInfo {
    id: string;
    ownedBy?: string;
}

/**
 * A policy LLM backend.
 *
 * The contract includes:
 * - `generate`: n completions for one prompt, each with its text (stop string excluded), finish reason, the matched stop
 *   string (or `null`), and token usage when the server reports it; aborting `signal` rejects with `ABORTED`.
 * - `listModels`: the models the backend can serve, as a preflight check.
 * - `dispose` / `Symbol.asyncDispose`: release connections and reject later calls with `BACKEND_DISPOSED`.
 * - Errors are `RstarError`s with codes `BACKEND_UNAVAILABLE`, `BACKEND_HTTP`, `BACKEND_TIMEOUT`,
 *   `BACKEND_RESPONSE_INVALID`, `BACKEND_MODEL_NOT_FOUND`, `ABORTED`, `INVALID_ARGUMENT` or `BACKEND_DISPOSED`, and
 *   `retryable` tells the caller whether trying again later may help.
 *
 * @remarks
 * Deliberately not in the contract:
 * - Streaming as a guarantee: `onText` is optional progress (llama.cpp reports it; HTTP and the teacher do not).
 * - Chat messages and chat templates: the prompt is raw text, already in the rStar format.
 * - Log-probabilities, token ids, and stop token ids (only stop strings).
 * - How retries, timeouts, load balancing and concurrency caps work: those are backend options, not behaviour a
 *   caller may rely on. A backend may retry internally; a rejected call has already used up its retries.
 * - Caching and logging: wrap a backend in middleware instead.
 * - Which stop matched when the server does not say: a backend reports its best inference and flags it
 *   with `stopInferred`.
 */
export interface LlmBackend {
    readonly specVersion: LlmBackendSpecVersion;
    /** A readable id naming the backend kind and where it points, e.g. `openai:http://127.0.0.1:8000/v1`. */
    readonly id: string;
    /** The model name requests are made for. */
    readonly model: string;
    generate(request: GenerateRequest): Promise<GenerateResult>;
    listModels(options?: { signal?: AbortSignal }): Promise<ModelInfo[]>;
    dispose(): Promise<void>;
    [Symbol.asyncDispose](): Promise<void>;
}
