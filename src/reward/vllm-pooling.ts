import { z } from "zod";
import { invalidResponseError } from "../llm/index.js";

/**
 * vLLM's pooling API, as read from its source (see docs/reward-models.md for files and commits):
 *
 * Request `POST /pooling` (`PoolingCompletionRequest`): `{model, input: string | string[] | int[] | int[][],
 * task?: "embed" | "token_embed" | "classify" | "token_classify" | …, encoding_format?: "float" | "base64",
 * use_activation?: bool, add_special_tokens?: bool (default true), truncate_prompt_tokens?, …}`.
 *
 * Response (`PoolingResponse`): `{id: "pool-…", object: "list", created, model, data: [{index, object: "pooling",
 * data: float[] | float[][] | base64 string}], usage: {prompt_tokens, total_tokens, …}}`.
 *
 * `POST /v1/embeddings` answers `{data: [{index, object: "embedding", embedding: float[] | base64 string}], …}`.
 * Validation is loose: only the fields read here are checked.
 */
const vectorSchema = z.union([z.array(z.number()), z.array(z.array(z.number())), z.string()]);

export const poolingResponseSchema = z.looseObject({
    model: z.string().optional(),
    data: z.array(
        z.looseObject({
            index: z.number().int().min(0).optional(),
            data: vectorSchema.optional(),
            embedding: vectorSchema.optional(),
        }),
    ),
    usage: z.looseObject({ prompt_tokens: z.number().optional() }).nullish(),
});

export type PoolingResponse = z.infer<typeof poolingResponseSchema>;
export type PooledValue = number[] | number[][];

/**
 * Validates a pooling/embeddings body and returns one pooled value per input, in input order
 * (`index` decides; base64 strings are decoded as little-endian float32).
 */
export function readPoolingResponse(url: string, value: unknown, text: string, expected: number): PooledValue[] {
    const parsed = poolingResponseSchema.safeParse(value);
    if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const where = issue === undefined ? "" : ` at ${issue.path.join(".") || "(root)"}: ${issue.message}`;
        throw invalidResponseError(url, `expected a vLLM pooling response ({"data": [{"index", "data": […]}]})${where}`, text);
    }
    const entries = parsed.data.data;
    if (entries.length !== expected) throw invalidResponseError(url, `sent ${expected} inputs, got ${entries.length} results`, text);
    const out: (PooledValue | undefined)[] = new Array<PooledValue | undefined>(expected).fill(undefined);
    entries.forEach((entry, position) => {
        const index = entry.index ?? position;
        const payload = entry.data ?? entry.embedding;
        if (index >= expected || out[index] !== undefined) throw invalidResponseError(url, `result index ${index} is out of range or repeated`, text);
        if (payload === undefined) throw invalidResponseError(url, `result ${index} has neither "data" nor "embedding"`, text);
        out[index] = typeof payload === "string" ? decodeBase64Floats(url, payload, text) : payload;
    });
    return out as PooledValue[];
}

function decodeBase64Floats(url: string, payload: string, text: string): number[] {
    const bytes = Buffer.from(payload, "base64");
    if (bytes.length % 4 !== 0) throw invalidResponseError(url, `base64 payload of ${bytes.length} bytes is not float32 data`, text);
    const out: number[] = [];
    for (let offset = 0; offset < bytes.length; offset += 4) out.push(bytes.readFloatLE(offset));
    return out;
}

/** The vector a PPM reads: a pooled vector as is, or the last row of per-token states (`token_embed`). */
export function lastTokenState(value: PooledValue): number[] {
    if (value.length === 0) return [];
    const last = value[value.length - 1];
    return Array.isArray(last) ? last : (value as number[]);
}
