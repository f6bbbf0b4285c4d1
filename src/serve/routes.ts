import { z } from "zod";
import { RstarError } from "../errors/index.js";
import type { LlmBackend } from "../llm/index.js";
import type { ProblemOutcome, SearchServices, SearchSettings } from "../search/index.js";

/**
 * Route handlers of `rstar serve`, framework-free: each takes the parsed JSON body (and an abort signal) and returns
 * `{status, body}` or a stream of server-sent events. `server.ts` registers them with fastify.
 */
/** A JSON answer. */
export interface JsonResult {
    status: number;
    body: unknown;
    /** Extra response headers (e.g. `x-should-retry: false` on an error a client must not retry). */
    headers?: Record<string, string>;
}

export type RouteResult =
    | JsonResult
    /** A server-sent-event stream: `stream` sends each event's JSON; the server adds `data: [DONE]` and ends it. */
    | { status: 200; stream: (send: (event: unknown) => void) => Promise<void> };

/** What the pooling endpoints need from a PPM: the backbone's last-token hidden state for a text. */
export interface HiddenStateSource {
    hiddenState(text: string, signal?: AbortSignal): Promise<number[]>;
}

/** The solver models of a server (see solver-routes.ts) and their in-flight count. */
export interface SolverContext {
    services: SearchServices;
    models: Record<string, SearchSettings>;
    maxBudget: number;
    maxInFlight: number;
    inFlight: number;
    /** Longest a solver request may run before its search is stopped and it is answered 408. @unit ms */
    timeoutMs?: number | undefined;
    /** Solver requests stopped by `timeoutMs`. */
    timedOut: number;
    /** Where solved requests are kept, when they are. */
    log?: { dir: string; add(question: string, outcome: ProblemOutcome, request: { id: string; model: string }): number; close(): void } | undefined;
}

export interface ServeContext {
    policy: LlmBackend;
    /** The served policy model id (requests must name it). */
    policyModel: string;
    ppm?: { source: HiddenStateSource; model: string; maxModelLen: number } | undefined;
    maxModelLen: number;
    /** Solver models (search behind the chat API), when the server has them. */
    solvers?: SolverContext | undefined;
    /** max_tokens of a completion request that gives none. */
    defaultMaxTokens: number;
    created: number;
}

/** vLLM's error body: `{error: {message, type, param, code}}`. */
export function errorBody(status: number, message: string, param: string | null = null): JsonResult {
    const type = status === 404 ? "NotFoundError" : status >= 500 ? "InternalServerError" : "BadRequestError";
    return { status, body: { error: { message, type, param, code: status } } };
}

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

let sequence = 0;

/** A fresh response id such as `cmpl-rstar-7`. */
export function nextId(prefix: string): string {
    sequence += 1;
    return `${prefix}-rstar-${sequence}`;
}

export function listModels(context: ServeContext): RouteResult {
    const entry = (id: string, maxModelLen: number) => ({ id, object: "model", created: context.created, owned_by: "rstar", root: id, parent: null, max_model_len: maxModelLen });
    const data = [entry(context.policyModel, context.maxModelLen)];
    if (context.ppm !== undefined) data.push(entry(context.ppm.model, context.ppm.maxModelLen));
    for (const name of Object.keys(context.solvers?.models ?? {})) data.push({ ...entry(name, context.maxModelLen), root: context.policyModel });
    return { status: 200, body: { object: "list", data } };
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
    return {
        status: 200,
        body: {
            id: nextId(shape === "pooling" ? "pool" : "embd"),
            object: "list",
            created: Math.floor(Date.now() / 1000),
            model: ppm.model,
            data,
            // token counts are not tracked for pooling; vLLM reports prompt tokens here
            usage: { prompt_tokens: 0, total_tokens: 0, completion_tokens: 0, prompt_tokens_details: null },
        },
    };
}

export function invalid(error: z.ZodError): JsonResult {
    const issue = error.issues[0];
    const path = issue?.path.join(".") || "body";
    return errorBody(400, `${path}: ${issue?.message ?? "invalid request"}`, issue === undefined ? null : path);
}

/** Backend errors: caller mistakes are 400, aborts 499 (the client left), anything else 500. */
export function backendError(error: unknown): JsonResult {
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
