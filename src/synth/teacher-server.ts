import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { z } from "zod";
import { RstarError } from "../errors/index.js";
import { parseJson } from "../util/index.js";
import { DEFAULT_TEACHER_MODEL, teacherCompletions } from "./teacher-backend.js";
import { resolveErrorRates, type TeacherErrorRates } from "./teacher-policy.js";

export interface TeacherServerOptions {
    /** Port on 127.0.0.1; 0 (default) picks a free one. */
    port?: number;
    /** Interface to listen on. Defaults to 127.0.0.1 (the teacher is a local tool; it has no authentication). */
    host?: string;
    /** Served model name; requests naming another model get a 404, as vLLM does. Defaults to "rstar-synth-teacher". */
    model?: string;
    errorRates?: Partial<TeacherErrorRates>;
    /** Delay added to every completion request. Defaults to 0. @unit ms */
    latencyMs?: number;
    /** Largest request body accepted. Defaults to 8 MiB. @unit bytes */
    maxBodyBytes?: number;
}

export interface TeacherServer extends AsyncDisposable {
    /** `http://host:port/v1`, as OpenAI clients take it. */
    baseURL: string;
    port: number;
    model: string;
    errorRates: Readonly<TeacherErrorRates>;
    /** Completion requests answered so far. */
    readonly requests: number;
    close(): Promise<void>;
}

/** `POST /v1/completions` body: the OpenAI text-completion fields the teacher honours; other fields are ignored. */
const completionRequestSchema = z.looseObject({
    model: z.string(),
    prompt: z.union([z.string(), z.array(z.string()).length(1)]),
    n: z.number().int().min(1).max(1024).optional(),
    temperature: z.number().min(0).optional(),
    top_p: z.number().gt(0).max(1).optional(),
    max_tokens: z.number().int().min(1).nullish(),
    stop: z.union([z.string(), z.array(z.string())]).nullish(),
    seed: z.number().int().nullish(),
});

/** Used when a request gives no max_tokens (vLLM would use 16, too few for a step). */
const DEFAULT_MAX_TOKENS = 512;

/**
 * Serves the teacher policy over HTTP in vLLM's shapes: `GET /v1/models` and `POST /v1/completions` with `n`, `stop`,
 * `temperature`, `seed` and `max_tokens`; each choice's text excludes the stop string, which `stop_reason` names.
 */
export async function startTeacherServer(options: TeacherServerOptions = {}): Promise<TeacherServer> {
    const model = options.model ?? DEFAULT_TEACHER_MODEL;
    let rates: TeacherErrorRates;
    try {
        rates = resolveErrorRates(options.errorRates);
    } catch (error) {
        throw new RstarError("INVALID_ARGUMENT", (error as Error).message);
    }
    const maxBodyBytes = options.maxBodyBytes ?? 8 * 1024 * 1024;
    let requests = 0;
    let sequence = 0;

    const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
        const url = new URL(request.url ?? "/", "http://127.0.0.1");
        if (request.method === "GET" && (url.pathname === "/v1/models" || url.pathname === "/v1/models/")) {
            send(response, 200, { object: "list", data: [{ id: model, object: "model", created: 0, owned_by: "rstar-synth", root: model, parent: null, max_model_len: null }] });
            return;
        }
        if (request.method === "GET" && url.pathname === "/health") {
            response.writeHead(200).end();
            return;
        }
        if (url.pathname !== "/v1/completions") {
            send(response, 404, { detail: "Not Found" });
            return;
        }
        if (request.method !== "POST") {
            send(response, 405, { detail: "Method Not Allowed" });
            return;
        }
        const body = await readBody(request, maxBodyBytes);
        if (body === null) {
            send(response, 413, errorBody(`request body is larger than ${maxBodyBytes} bytes`, "BadRequestError", 413));
            return;
        }
        const json = parseJson(body);
        if (!json.ok) {
            send(response, 400, errorBody(`request body is ${json.error}`, "BadRequestError", 400));
            return;
        }
        const parsed = completionRequestSchema.safeParse(json.value);
        if (!parsed.success) {
            const issue = parsed.error.issues[0];
            send(response, 400, errorBody(`${issue?.path.join(".") || "body"}: ${issue?.message ?? "invalid"}`, "BadRequestError", 400, issue?.path.join(".") ?? null));
            return;
        }
        const payload = parsed.data;
        if (payload.model !== model) {
            send(response, 404, errorBody(`The model \`${payload.model}\` does not exist.`, "NotFoundError", 404, "model"));
            return;
        }
        requests += 1;
        if ((options.latencyMs ?? 0) > 0) await new Promise((resolve) => setTimeout(resolve, options.latencyMs));
        if (response.destroyed) return;
        const prompt = typeof payload.prompt === "string" ? payload.prompt : (payload.prompt[0] as string);
        const stop = payload.stop === undefined || payload.stop === null ? [] : typeof payload.stop === "string" ? [payload.stop] : payload.stop;
        const result = teacherCompletions(
            { prompt, n: payload.n ?? 1, temperature: payload.temperature ?? 1, maxTokens: payload.max_tokens ?? DEFAULT_MAX_TOKENS, stop, seed: payload.seed ?? undefined },
            rates,
        );
        const completionTokens = result.completions.reduce((sum, choice) => sum + choice.completionTokens, 0);
        sequence += 1;
        send(response, 200, {
            id: `cmpl-teacher-${sequence}`,
            object: "text_completion",
            created: Math.floor(Date.now() / 1000),
            model,
            choices: result.completions.map((choice, index) => ({ index, text: choice.text, logprobs: null, finish_reason: choice.finishReason, stop_reason: choice.stop })),
            usage: { prompt_tokens: result.promptTokens, completion_tokens: completionTokens, total_tokens: result.promptTokens + completionTokens },
        });
    };

    const server = createServer((request, response) => {
        handle(request, response).catch((error: unknown) => send(response, 500, errorBody(error instanceof Error ? error.message : String(error), "InternalServerError", 500)));
    });
    await new Promise<void>((resolve, reject) => {
        server.once("error", (error: NodeJS.ErrnoException) =>
            reject(new RstarError(error.code === "EADDRINUSE" ? "INVALID_ARGUMENT" : "INTERNAL", `cannot listen on ${options.host ?? "127.0.0.1"}:${options.port ?? 0}: ${error.message}`, { cause: error })),
        );
        server.listen(options.port ?? 0, options.host ?? "127.0.0.1", resolve);
    });
    const address = server.address() as AddressInfo;
    const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
    const close = () =>
        new Promise<void>((resolve) => {
            server.closeAllConnections();
            server.close(() => resolve());
        });
    return {
        baseURL: `http://${host}:${address.port}/v1`,
        port: address.port,
        model,
        errorRates: rates,
        get requests() {
            return requests;
        },
        close,
        [Symbol.asyncDispose]: close,
    };
}

function errorBody(message: string, type: string, code: number, param: string | null = null) {
    return { error: { message, type, param, code } };
}

function readBody(request: IncomingMessage, limit: number): Promise<string | null> {
    return new Promise((resolve, reject) => {
        const chunks: Buffer[] = [];
        let size = 0;
        let over = false;
        request.on("data", (chunk: Buffer) => {
            size += chunk.length;
            if (size > limit) over = true;
            else chunks.push(chunk);
        });
        request.on("end", () => resolve(over ? null : Buffer.concat(chunks).toString("utf8")));
        request.on("error", reject);
    });
}

function send(response: ServerResponse, status: number, body: unknown): void {
    if (response.headersSent || response.destroyed) return;
    const text = JSON.stringify(body);
    response.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
    response.end(text);
}
