import { z } from "zod";

/**
 * Wire shapes, validated loosely: only the fields this backend reads are checked, and unknown fields pass,
 * because vLLM, SGLang, llama.cpp's server and Ollama each add their own (see docs/llm-backends.md).
 */

const count = z.number().nonnegative().nullish();

export const usageSchema = z.looseObject({
    prompt_tokens: count,
    completion_tokens: count,
    total_tokens: count,
});

const reportedStop = z.union([z.string(), z.number()]).nullish();

/** One choice of an OpenAI-style text completion. */
export const completionChoiceSchema = z.looseObject({
    text: z.string(),
    index: z.number().int().nonnegative().nullish(),
    finish_reason: z.string().nullish(),
    /** vLLM: the matched stop string, a stop token id, or null (EOS or length). */
    stop_reason: reportedStop,
    /** SGLang: the matched stop string or token id (EOS included), or null. */
    matched_stop: reportedStop,
});

/** `POST /v1/completions` as served by vLLM, SGLang, llama.cpp's server and Ollama. */
export const openAiCompletionSchema = z.looseObject({
    model: z.string().nullish(),
    choices: z.array(completionChoiceSchema),
    usage: usageSchema.nullish(),
});

/**
 * llama.cpp's native completion result. Its server answers `POST /completions` (no `/v1`) with this shape,
 * so a baseURL without `/v1` lands here. It is the one llama.cpp shape that names the matched stop string.
 */
export const llamaCppNativeSchema = z.looseObject({
    content: z.string(),
    model: z.string().nullish(),
    stop_type: z.string().nullish(),
    stopping_word: z.string().nullish(),
    stopped_eos: z.boolean().nullish(),
    stopped_word: z.boolean().nullish(),
    stopped_limit: z.boolean().nullish(),
    tokens_predicted: count,
    tokens_evaluated: count,
});

export type LlamaCppNative = z.infer<typeof llamaCppNativeSchema>;

/** A single native result, or an array of them (one per completion when several are asked for). */
export const llamaCppNativeResponseSchema = z.union([llamaCppNativeSchema, z.array(llamaCppNativeSchema).min(1)]);

/** `GET /v1/models`. llama.cpp adds a `models` array and Ollama an `owned_by` namespace; both are ignored. */
export const modelListSchema = z.looseObject({
    data: z.array(z.looseObject({ id: z.string(), owned_by: z.string().nullish() })),
});

/**
 * Error bodies. vLLM (recent) and llama.cpp and Ollama wrap them: `{"error": {"message", "type", "code"}}`;
 * vLLM (older) and SGLang do not: `{"object": "error", "message", "type", "code"}`; FastAPI's default is `{"detail"}`.
 */
export const errorBodySchema = z.looseObject({
    error: z.union([z.string(), z.looseObject({ message: z.string().nullish(), type: z.string().nullish() })]).nullish(),
    message: z.string().nullish(),
    detail: z.unknown().optional(),
});
