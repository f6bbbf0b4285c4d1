import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A vLLM pooling server stand-in on 127.0.0.1, replaying the shapes in test/fixtures/reward/vllm-pooling.json with
 * synthetic, deterministic numbers: `fakeHiddenState(text)` for a backbone served with the embed task, and
 * `fakeStepProbability(step)` rows for a Qwen2.5-Math-PRM-style process reward model.
 */
export const FAKE_HIDDEN_SIZE = 16;
export const PRM_STEP_TAG = "<extra_0>";

/** A deterministic, non-normalized "hidden state" that depends on every character and most on the last ones. */
export function fakeHiddenState(text: string): number[] {
    const out = new Array<number>(FAKE_HIDDEN_SIZE).fill(0);
    for (let i = 0; i < text.length; i += 1) {
        const code = text.charCodeAt(i);
        const weight = 1 + i / Math.max(1, text.length);
        for (let j = 0; j < FAKE_HIDDEN_SIZE; j += 1) out[j] = (out[j] as number) + weight * Math.sin(code * (j + 1) * 0.37 + i * 0.11);
    }
    return out.map((value) => value / Math.sqrt(Math.max(1, text.length)) + 0.25);
}

/** Probability that a step is correct, from its text. */
export function fakeStepProbability(step: string): number {
    let hash = 7;
    for (let i = 0; i < step.length; i += 1) hash = (hash * 31 + step.charCodeAt(i)) % 1_000_003;
    return 0.05 + 0.9 * ((hash % 1000) / 999);
}

export type PoolingFault =
    | { kind: "status"; status: number; retryAfter?: string; body?: string; times?: number }
    | { kind: "drop"; times?: number }
    | { kind: "malformed"; times?: number }
    | { kind: "wrong-shape"; times?: number }
    | { kind: "wrong-count"; times?: number };

export interface FixturePoolingServerOptions {
    /** "ppm": the backbone (embed/token_embed tasks); "prm": a process reward model (step rows). */
    flavor: "ppm" | "prm";
    model?: string;
    /** Longest input accepted, in characters (vLLM counts tokens); longer gives vLLM's 400. */
    maxInputChars?: number;
}

export interface FixturePoolingServer {
    /** Server root, e.g. http://127.0.0.1:PORT (vLLM's /pooling is not under /v1). */
    url: string;
    model: string;
    /** Bodies of the pooling/embeddings requests received, parsed. */
    requests: Record<string, unknown>[];
    maxConcurrent: number;
    setLatency(ms: number): void;
    /** Faults applied to the next requests, in order. */
    inject(fault: PoolingFault): void;
    close(): Promise<void>;
}

export async function startFixturePoolingServer(options: FixturePoolingServerOptions): Promise<FixturePoolingServer> {
    const model = options.model ?? (options.flavor === "ppm" ? "rstar-ppm" : "Qwen/Qwen2.5-Math-PRM-7B");
    const faults: PoolingFault[] = [];
    const requests: Record<string, unknown>[] = [];
    let latency = 0;
    let active = 0;
    let maxConcurrent = 0;
    let sequence = 0;

    const send = (response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
        if (response.destroyed) return;
        response.writeHead(status, { "content-type": "application/json", ...headers }).end(typeof body === "string" ? body : JSON.stringify(body));
    };
    const error = (response: ServerResponse, status: number, message: string, type: string, param: string | null = null) =>
        send(response, status, { error: { message, type, param, code: status } });

    const handle = async (request: IncomingMessage, response: ServerResponse) => {
        const path = new URL(request.url ?? "/", "http://127.0.0.1").pathname;
        if (request.method === "GET" && path === "/v1/models") {
            send(response, 200, { object: "list", data: [{ id: model, object: "model", created: 0, owned_by: "vllm", root: model, parent: null, max_model_len: 4096 }] });
            return;
        }
        if (request.method !== "POST" || (path !== "/pooling" && path !== "/v1/embeddings")) {
            send(response, 404, { detail: "Not Found" });
            return;
        }
        const chunks: Buffer[] = [];
        for await (const chunk of request) chunks.push(chunk as Buffer);
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>;
        requests.push(body);
        active += 1;
        maxConcurrent = Math.max(maxConcurrent, active);
        try {
            if (latency > 0) await new Promise((resolve) => setTimeout(resolve, latency));
            const fault = faults[0];
            if (fault !== undefined) {
                fault.times = (fault.times ?? 1) - 1;
                if (fault.times <= 0) faults.shift();
                if (fault.kind === "drop") {
                    request.socket.destroy();
                    return;
                }
                if (fault.kind === "status") {
                    send(response, fault.status, fault.body ?? { error: { message: `injected ${fault.status}`, type: "InternalServerError", param: null, code: fault.status } }, fault.retryAfter === undefined ? {} : { "retry-after": fault.retryAfter });
                    return;
                }
                if (fault.kind === "malformed") {
                    send(response, 200, '{"data": [');
                    return;
                }
                if (fault.kind === "wrong-shape") {
                    send(response, 200, { choices: [{ text: "hello" }] });
                    return;
                }
            }
            if (body["model"] !== model) {
                error(response, 404, `The model \`${String(body["model"])}\` does not exist.`, "NotFoundError", "model");
                return;
            }
            if ("normalize" in body) {
                error(response, 400, "Parameter `normalize` was removed; use `use_activation` instead.", "BadRequestError", "normalize");
                return;
            }
            const input = body["input"];
            const texts = typeof input === "string" ? [input] : Array.isArray(input) && input.every((x) => typeof x === "string") ? (input as string[]) : null;
            if (texts === null) {
                error(response, 400, "input must be a string or a list of strings in this fixture", "BadRequestError", "input");
                return;
            }
            const limit = options.maxInputChars ?? 20_000;
            const tooLong = texts.find((text) => text.length > limit);
            if (tooLong !== undefined) {
                error(
                    response,
                    400,
                    `This model's maximum context length is ${limit} tokens. However, you requested ${tooLong.length} tokens in the input for embedding generation. Please reduce the length of the input.`,
                    "BadRequestError",
                );
                return;
            }
            const dropOne = fault?.kind === "wrong-count";
            const rows = texts.map((text, index) => ({ index, value: pooled(text, path === "/v1/embeddings" ? { ...body, task: "embed" } : body, options.flavor) })).slice(0, dropOne ? texts.length - 1 : texts.length);
            const encoding = body["encoding_format"];
            const tokens = texts.reduce((sum, text) => sum + text.length, 0);
            sequence += 1;
            const usage = { prompt_tokens: tokens, total_tokens: tokens, completion_tokens: 0, prompt_tokens_details: null };
            if (path === "/v1/embeddings") {
                send(response, 200, {
                    id: `embd-${sequence}`,
                    object: "list",
                    created: 1735000000,
                    model,
                    data: rows.map(({ index, value }) => ({ index, object: "embedding", embedding: encoding === "base64" ? toBase64(value as number[]) : value })),
                    usage,
                });
                return;
            }
            send(response, 200, {
                id: `pool-${sequence}`,
                object: "list",
                created: 1735000000,
                model,
                data: rows.map(({ index, value }) => ({ index, object: "pooling", data: encoding === "base64" && !Array.isArray(value[0]) ? toBase64(value as number[]) : value })),
                usage,
            });
        } finally {
            active -= 1;
        }
    };

    const server = createServer((request, response) => {
        handle(request, response).catch((caught: unknown) => error(response, 500, String(caught), "InternalServerError"));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    return {
        url: `http://127.0.0.1:${port}`,
        model,
        requests,
        get maxConcurrent() {
            return maxConcurrent;
        },
        setLatency(ms: number) {
            latency = ms;
        },
        inject(fault: PoolingFault) {
            faults.push(fault);
        },
        close: () =>
            new Promise<void>((resolve) => {
                server.closeAllConnections();
                server.close(() => resolve());
            }),
    };
}

function pooled(text: string, body: Record<string, unknown>, flavor: "ppm" | "prm"): number[] | number[][] {
    if (flavor === "prm") {
        // STEP pooling with step_tag_id: one [p_neg, p_pos] row per <extra_0>; the step is the text before it.
        const assistant = text.slice(text.lastIndexOf("<|im_start|>assistant\n") + "<|im_start|>assistant\n".length);
        const pieces = assistant.split(PRM_STEP_TAG).slice(0, -1);
        return pieces.map((step) => {
            const p = fakeStepProbability(step);
            return [1 - p, p];
        });
    }
    const task = body["task"];
    const state = fakeHiddenState(text);
    const normalized = body["use_activation"] !== false;
    const finalState = normalized ? l2(state) : state;
    if (task === "token_embed" || task === undefined) return [fakeHiddenState(text.slice(0, Math.max(1, text.length - 1))), finalState];
    return finalState;
}

function l2(values: number[]): number[] {
    const norm = Math.sqrt(values.reduce((sum, v) => sum + v * v, 0));
    return values.map((v) => v / norm);
}

function toBase64(values: number[]): string {
    const buffer = Buffer.alloc(values.length * 4);
    values.forEach((value, index) => buffer.writeFloatLE(value, index * 4));
    return buffer.toString("base64");
}
