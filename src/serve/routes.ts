import { z } from "zod";
import { RstarError } from "../errors/index.js";
import type { FinishReason, LlmBackend } from "../llm/index.js";

/**
 * Route handlers of `rstar serve`, framework-free: each takes the parsed JSON body (and an abort signal) and returns
 * `{status, body}`. `server.ts` registers them with fastify.
 */
export interface RouteResult {
    status: number;
    body: unknown;
}

/** What the pooling endpoints need from a PPM: the backbone's last-token hidden state for a text. */
export interface HiddenStateSource {
    hiddenState(text: string, signal?: AbortSignal): Promise<number[]>;
}

export interface ServeContext {
    policy: LlmBackend;
    /** The served policy model id (requests must name it). */
    policyModel: string;
    ppm?: { source: HiddenStateSource; model: string; maxModelLen: number } | undefined;
    maxModelLen: number;
    created: number;
}

/** vLLM's error body: `{error: {message, type, param, code}}`. */
export function errorBody(status: number, message: string, param: string | null = null): RouteResult {
    const type = status === 404 ? "NotFoundError" : status >= 500 ? "InternalServerError" : "BadRequestError";
    return { status, body: { error: { message, type, param, code: status } } };
}

const stopSchema = z.union([z.string(), z.array(z.string())]).nullish();

/** `POST /v1/completions`: the OpenAI text-completion fields the server honours (unknown fields are ignored). */
export const completionRequestSchema = z.looseObject({
    model: z.string(),
    prompt: z.union([z.string(), z.array(z.string()).length(1)]),
    n: z.number().int().min(1).max(256).optional(),
    temperature: z.number().min(0).max(100).optional(),
    top_p: z.number().gt(0).max(1).optional(),
    max_tokens: z.number().int().min(1).nullish(),
    stop: stopSchema,
    seed: z.number().int().nullish(),
    stream: z.literal(false).nullish(),
});

/** `POST /pooling` (vLLM's PoolingCompletionRequest subset) and `POST /v1/embeddings`. */
export const poolingRequestSchema = z.looseObject({
    model: z.string().optional(),
    input: z.union([z.string(), z.array(z.string()).min(1)]),
    task: z.enum(["embed", "token_embed"]).nullish(),
    encoding_format: z.enum(["float", "base64"]).optional(),
    use_activation: z.boolean().nullish(),
    normalize: z.never({ error: "Parameter `normalize` was removed; use `use_activation` instead." }).optional(),
    dimensions: z.null().optional(),
});

/** Used when a request gives no max_tokens (vLLM's default of 16 is too few for a step). */
export const DEFAULT_MAX_TOKENS = 256;

let sequence = 0;

export function listModels(context: ServeContext): RouteResult {
    const entry = (id: string, maxModelLen: number) => ({ id, object: "model", created: context.created, owned_by: "rstar", root: id, parent: null, max_model_len: maxModelLen });
    const data = [entry(context.policyModel, context.maxModelLen)];
    if (context.ppm !== undefined) data.push(entry(context.ppm.model, context.ppm.maxModelLen));
    return { status: 200, body: { object: "list", data } };
}

export async function completions(context: ServeContext, raw: unknown, signal: AbortSignal): Promise<RouteResult> {
    const parsed = completionRequestSchema.safeParse(raw);
    if (!parsed.success) return invalid(parsed.error);
    const request = parsed.data;
    if (request.model !== context.policyModel) return errorBody(404, `The model \`${request.model}\` does not exist.`, "model");
    const prompt = typeof request.prompt === "string" ? request.prompt : (request.prompt[0] as string);
    const stop = request.stop === undefined || request.stop === null ? [] : typeof request.stop === "string" ? [request.stop] : request.stop;
    try {
        const result = await context.policy.generate({
            prompt,
            n: request.n ?? 1,
            temperature: request.temperature ?? 1,
            topP: request.top_p ?? 1,
            maxTokens: request.max_tokens ?? DEFAULT_MAX_TOKENS,
            stop,
            ...(request.seed === undefined || request.seed === null ? {} : { seed: request.seed }),
            signal,
        });
        sequence += 1;
        return {
            status: 200,
            body: {
                id: `cmpl-rstar-${sequence}`,
                object: "text_completion",
                created: Math.floor(Date.now() / 1000),
                model: context.policyModel,
                choices: result.completions.map((completion) => ({
                    index: completion.index,
                    text: completion.text,
                    logprobs: null,
                    finish_reason: completion.finishReason satisfies FinishReason,
                    stop_reason: completion.stop,
                })),
                usage:
                    result.usage === null
                        ? null
                        : { prompt_tokens: result.usage.promptTokens, completion_tokens: result.usage.completionTokens, total_tokens: result.usage.totalTokens },
            },
        };
    } catch (error) {
        return backendError(error);
    }
}

export async function pooling(context: ServeContext, raw: unknown, signal: AbortSignal, shape: "pooling" | "embeddings"): Promise<RouteResult> {
    const ppm = context.ppm;
    if (ppm === undefined) return errorBody(404, "This server has no PPM (start it with --ppm DIR) and so no pooling API.");
    const parsed = poolingRequestSchema.safeParse(raw);
    if (!parsed.success) return invalid(parsed.error);
    const request = parsed.data;
    if (request.model !== undefined && request.model !== ppm.model) return errorBody(404, `The model \`${request.model}\` does not exist.`, "model");
    if (request.task === "token_embed") {
        return errorBody(400, "task token_embed is not supported: this server returns the last token's hidden state only (use task embed)", "task");
    }
    const texts = typeof request.input === "string" ? [request.input] : request.input;
    const normalize = request.use_activation !== false;
    const data: unknown[] = [];
    try {
        for (const [index, text] of texts.entries()) {
            let vector = await ppm.source.hiddenState(text, signal);
            if (normalize) vector = l2Normalize(vector);
            const payload = request.encoding_format === "base64" ? toBase64(vector) : vector;
            data.push(shape === "pooling" ? { index, object: "pooling", data: payload } : { index, object: "embedding", embedding: payload });
        }
    } catch (error) {
        return backendError(error);
    }
    sequence += 1;
    return {
        status: 200,
        body: {
            id: `${shape === "pooling" ? "pool" : "embd"}-rstar-${sequence}`,
            object: "list",
            created: Math.floor(Date.now() / 1000),
            model: ppm.model,
            data,
            // token counts are not tracked for pooling; vLLM reports prompt tokens here
            usage: { prompt_tokens: 0, total_tokens: 0, completion_tokens: 0, prompt_tokens_details: null },
        },
    };
}

function invalid(error: z.ZodError): RouteResult {
    const issue = error.issues[0];
    const path = issue?.path.join(".") || "body";
    return errorBody(400, `${path}: ${issue?.message ?? "invalid request"}`, issue === undefined ? null : path);
}

/** Backend errors: caller mistakes are 400, aborts 499 (the client left), anything else 500. */
function backendError(error: unknown): RouteResult {
    if (RstarError.isInstance(error)) {
        if (error.code === "INVALID_ARGUMENT") return errorBody(400, error.message);
        if (error.code === "ABORTED") return errorBody(499, error.message);
        if (error.code === "BACKEND_DISPOSED") return errorBody(503, "the server is shutting down");
    }
    return errorBody(500, error instanceof Error ? error.message : String(error));
}

function l2Normalize(values: number[]): number[] {
    const norm = Math.sqrt(values.reduce((sum, value) => sum + value * value, 0));
    return norm === 0 ? values : values.map((value) => value / norm);
}

function toBase64(values: readonly number[]): string {
    const buffer = Buffer.alloc(values.length * 4);
    values.forEach((value, index) => buffer.writeFloatLE(value, index * 4));
    return buffer.toString("base64");
}
