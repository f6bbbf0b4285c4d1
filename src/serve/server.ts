import Fastify, { type FastifyReply } from "fastify";
import type { AddressInfo } from "node:net";
import { RstarError } from "../errors/index.js";
import type { LlmBackend } from "../llm/index.js";
import { parseJson } from "../util/index.js";
import { createHash, timingSafeEqual } from "node:crypto";
import { DEFAULT_MAX_TOKENS, chatCompletions, completions } from "./generation-routes.js";
import { solverContext, type SolverConfig } from "./solver-routes.js";
import { errorBody, listModels, pooling, type HiddenStateSource, type RouteResult, type ServeContext } from "./routes.js";

export interface RstarServerOptions {
    policy: LlmBackend;
    /** Served name of the policy. Defaults to `policy.model`. */
    policyModel?: string;
    /** Longest sequence, reported as `max_model_len`. Defaults to 0 (unknown). */
    maxModelLen?: number;
    /** A PPM backbone for `/pooling` and `/v1/embeddings`, served under `model`. */
    ppm?: { source: HiddenStateSource; model: string; maxModelLen?: number };
    /** Defaults to 127.0.0.1: the server has no authentication. */
    host?: string;
    /** 0 (default) picks a free port. */
    port?: number;
    /** Largest request body accepted. Defaults to 8 MiB. @unit bytes */
    maxBodyBytes?: number;
    /** max_tokens of a request that gives none (chat: the whole context when `maxModelLen` is known). Defaults to 256. */
    defaultMaxTokens?: number;
    /** Solver models (`rstar-greedy`, `rstar-bon-8`, `rstar-mcts`): chat completions that run the search. */
    solvers?: SolverConfig;
    /** When set, every request but `GET /health` must send `Authorization: Bearer <apiKey>` (compared in constant time). */
    apiKey?: string;
}

export interface RstarServer extends AsyncDisposable {
    /** `http://host:port` (the pooling API lives here). */
    url: string;
    /** `http://host:port/v1`, as OpenAI clients take it. */
    baseURL: string;
    port: number;
    /** Counters of POST requests: in flight now, answered, and cut short because the client disconnected. */
    stats(): ServerStats;
    /** Stops accepting connections, lets requests in flight finish (up to `graceMs`, default 10 s), then closes. */
    close(graceMs?: number): Promise<void>;
}

export interface ServerStats {
    inFlight: number;
    completed: number;
    /** Requests whose client disconnected before the answer was finished (their generation was aborted). */
    aborted: number;
    /** Solver models, when served: searches running now, and searches stopped by the per-request time limit. */
    solvers?: { inFlight: number; timedOut: number };
}

type Handler = (context: ServeContext, body: unknown, signal: AbortSignal) => Promise<RouteResult> | RouteResult;

/** Method + path → handler. `body: true` routes read a JSON body. */
const routes: { method: "GET" | "POST"; path: string; body: boolean; handler: Handler }[] = [
    { method: "GET", path: "/v1/models", body: false, handler: (context) => listModels(context) },
    { method: "GET", path: "/health", body: false, handler: () => ({ status: 200, body: {} }) },
    { method: "POST", path: "/v1/completions", body: true, handler: completions },
    { method: "POST", path: "/v1/chat/completions", body: true, handler: chatCompletions },
    { method: "POST", path: "/pooling", body: true, handler: (context, body, signal) => pooling(context, body, signal, "pooling") },
    { method: "POST", path: "/v1/embeddings", body: true, handler: (context, body, signal) => pooling(context, body, signal, "embeddings") },
];

/**
 * An OpenAI-compatible server over any policy backend (llama.cpp, the noisy teacher, an upstream server) and,
 * optionally, a PPM backbone: `GET /v1/models`, `POST /v1/completions` and `POST /v1/chat/completions` (vLLM's
 * response shapes with `stop_reason`; `stream: true` sends OpenAI's server-sent-event chunks), `POST /pooling` and
 * `POST /v1/embeddings` (vLLM's pooling shapes: the last token's hidden state). Built on fastify; errors use vLLM's
 * error body. A client that disconnects aborts its generation.
 */
export async function startRstarServer(options: RstarServerOptions): Promise<RstarServer> {
    const context: ServeContext = {
        policy: options.policy,
        policyModel: options.policyModel ?? options.policy.model,
        ppm: options.ppm === undefined ? undefined : { source: options.ppm.source, model: options.ppm.model, maxModelLen: options.ppm.maxModelLen ?? 0 },
        maxModelLen: options.maxModelLen ?? 0,
        defaultMaxTokens: options.defaultMaxTokens ?? DEFAULT_MAX_TOKENS,
        solvers: options.solvers === undefined ? undefined : solverContext(options.solvers),
        created: Math.floor(Date.now() / 1000),
    };
    const maxBodyBytes = options.maxBodyBytes ?? 8 * 1024 * 1024;
    let closing = false;
    const stats: ServerStats = { inFlight: 0, completed: 0, aborted: 0 };
    const app = Fastify({ logger: false, bodyLimit: maxBodyBytes, routerOptions: { ignoreTrailingSlash: true }, forceCloseConnections: "idle" });

    // Bodies are parsed here, not by fastify, so that a bad body gets vLLM's error shape and our message.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser("*", { parseAs: "string" }, (_request, body, done) => done(null, body));

    app.setNotFoundHandler((request, reply) => {
        const path = request.url.split("?")[0]?.replace(/\/+$/, "") || "/";
        const allowed = routes.filter((route) => route.path === path);
        const result =
            allowed.length > 0
                ? errorBody(405, `${request.method} is not allowed on ${path}; use ${allowed.map((r) => r.method).join(" or ")}`)
                : errorBody(404, `no route ${request.method} ${path} (routes: ${routes.map((r) => `${r.method} ${r.path}`).join(", ")})`);
        void reply.code(result.status).send(result.body);
    });
    app.setErrorHandler((error: { statusCode?: number; message?: string }, _request, reply) => {
        const status = error.statusCode === 413 ? 413 : (error.statusCode ?? 500) >= 500 ? 500 : (error.statusCode ?? 400);
        const message = status === 413 ? `request body is larger than ${maxBodyBytes} bytes` : (error.message ?? "internal error");
        const result = errorBody(status, message);
        void reply.code(result.status).send(result.body);
    });

    // While closing, a keep-alive connection is cut as soon as its last request is answered, so close() need not wait.
    app.addHook("onRequest", async (_request, reply) => {
        if (closing) reply.header("connection", "close");
    });
    if (options.apiKey === "") throw new RstarError("INVALID_ARGUMENT", "apiKey is empty: give a key, or none for no authentication");
    const keyDigest = options.apiKey === undefined ? undefined : digest(options.apiKey);
    app.addHook("onRequest", async (request, reply) => {
        if (keyDigest === undefined || request.url.split("?")[0]?.replace(/\/+$/, "") === "/health") return;
        const header = request.headers.authorization ?? "";
        const given = header.startsWith("Bearer ") ? header.slice("Bearer ".length) : "";
        if (!timingSafeEqual(digest(given), keyDigest)) {
            const result = errorBody(401, "missing or wrong API key: send Authorization: Bearer <key>");
            return reply.code(401).send(result.body);
        }
        return undefined;
    });
    app.addHook("onResponse", async () => {
        if (closing) setImmediate(() => app.server.closeIdleConnections());
    });

    for (const route of routes) {
        app.route({
            method: route.method,
            url: route.path,
            handler: async (request, reply) => {
                if (closing) return reply.code(503).send(errorBody(503, "the server is shutting down").body);
                let body: unknown;
                if (route.body) {
                    const json = parseJson(typeof request.body === "string" ? request.body : "");
                    if (!json.ok) return reply.code(400).send(errorBody(400, `request body is ${json.error}`).body);
                    body = json.value;
                }
                // the client hanging up aborts the work (a search that gave up on a call should not keep the model busy)
                const controller = new AbortController();
                reply.raw.once("close", () => {
                    if (!reply.raw.writableFinished) controller.abort(new Error("client disconnected"));
                });
                stats.inFlight += 1;
                try {
                    return await answer(await route.handler(context, body, controller.signal), reply);
                } finally {
                    stats.inFlight -= 1;
                    if (controller.signal.aborted) stats.aborted += 1;
                    else stats.completed += 1;
                }
            },
        });
    }

    async function answer(result: RouteResult, reply: FastifyReply): Promise<FastifyReply> {
        if ("body" in result) return reply.code(result.status).headers(result.headers ?? {}).send(result.body);
        // server-sent events, written straight to the socket: one `data:` line per chunk, then `data: [DONE]`
        reply.hijack();
        const raw = reply.raw;
        raw.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", connection: closing ? "close" : "keep-alive" });
        const send = (event: unknown) => {
            if (!raw.destroyed && !raw.writableEnded) raw.write(`data: ${JSON.stringify(event)}\n\n`);
        };
        try {
            await result.stream(send);
            if (!raw.destroyed && !raw.writableEnded) raw.write("data: [DONE]\n\n");
        } catch (error) {
            send(errorBody(500, error instanceof Error ? error.message : String(error)).body);
        } finally {
            if (!raw.writableEnded) raw.end();
        }
        return reply;
    }

    const host = options.host ?? "127.0.0.1";
    try {
        await app.listen({ port: options.port ?? 0, host });
    } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        throw new RstarError(code === "EADDRINUSE" || code === "EACCES" ? "INVALID_ARGUMENT" : "INTERNAL", `cannot listen on ${host}:${options.port ?? 0}: ${(error as Error).message}`, {
            cause: error,
        });
    }
    const address = app.server.address() as AddressInfo;
    const shownHost = address.family === "IPv6" ? `[${address.address}]` : address.address;
    const url = `http://${shownHost}:${address.port}`;
    let closed: Promise<void> | undefined;
    const close = (graceMs = 10_000): Promise<void> =>
        (closed ??= (async () => {
            closing = true;
            let timer: NodeJS.Timeout | undefined;
            // fastify lets requests in flight finish; past the grace period the remaining connections are cut.
            const graceOver = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
            const stopped = app.close();
            await Promise.race([stopped, graceOver]);
            clearTimeout(timer);
            app.server.closeAllConnections();
            await stopped;
            context.solvers?.log?.close();
        })());
    return { url, baseURL: `${url}/v1`, port: address.port, stats: () => ({ ...stats, ...(context.solvers === undefined ? {} : { solvers: { inFlight: context.solvers.inFlight, timedOut: context.solvers.timedOut } }) }), close, [Symbol.asyncDispose]: () => close() };
}

function digest(text: string): Buffer {
    return createHash("sha256").update(text).digest();
}
