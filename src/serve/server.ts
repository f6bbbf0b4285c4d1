import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { RstarError } from "../errors/index.js";
import type { LlmBackend } from "../llm/index.js";
import { parseJson } from "../util/index.js";
import { completions, errorBody, listModels, pooling, type HiddenStateSource, type RouteResult, type ServeContext } from "./routes.js";

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
}

export interface RstarServer extends AsyncDisposable {
    /** `http://host:port` (the pooling API lives here). */
    url: string;
    /** `http://host:port/v1`, as OpenAI clients take it. */
    baseURL: string;
    port: number;
    /** Stops accepting connections, lets requests in flight finish (up to `graceMs`, default 10 s), then closes. */
    close(graceMs?: number): Promise<void>;
}

type Handler = (context: ServeContext, body: unknown, signal: AbortSignal) => Promise<RouteResult> | RouteResult;

/** Method + path → handler. `body: true` routes read a JSON body. Easy to port: one `app.route()` per entry. */
const routes: { method: "GET" | "POST"; path: string; body: boolean; handler: Handler }[] = [
    { method: "GET", path: "/v1/models", body: false, handler: (context) => listModels(context) },
    { method: "GET", path: "/health", body: false, handler: () => ({ status: 200, body: {} }) },
    { method: "POST", path: "/v1/completions", body: true, handler: completions },
    { method: "POST", path: "/pooling", body: true, handler: (context, body, signal) => pooling(context, body, signal, "pooling") },
    { method: "POST", path: "/v1/embeddings", body: true, handler: (context, body, signal) => pooling(context, body, signal, "embeddings") },
];

/**
 * An OpenAI-compatible server over a policy backend and, optionally, a PPM backbone: `GET /v1/models`,
 * `POST /v1/completions` (vLLM's response shape with `stop_reason`), `POST /pooling` and `POST /v1/embeddings`
 * (vLLM's pooling shapes: the last token's hidden state). Written against node:http; see docs/serve.md.
 */
export async function startRstarServer(options: RstarServerOptions): Promise<RstarServer> {
    const context: ServeContext = {
        policy: options.policy,
        policyModel: options.policyModel ?? options.policy.model,
        ppm: options.ppm === undefined ? undefined : { source: options.ppm.source, model: options.ppm.model, maxModelLen: options.ppm.maxModelLen ?? 0 },
        maxModelLen: options.maxModelLen ?? 0,
        created: Math.floor(Date.now() / 1000),
    };
    const maxBodyBytes = options.maxBodyBytes ?? 8 * 1024 * 1024;
    const inFlight = new Set<Promise<void>>();
    let closing = false;

    const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
        const path = new URL(request.url ?? "/", "http://127.0.0.1").pathname.replace(/\/+$/, "") || "/";
        const matches = routes.filter((route) => route.path === path);
        if (matches.length === 0) return send(response, errorBody(404, `no route ${request.method ?? "?"} ${path} (routes: ${routes.map((r) => `${r.method} ${r.path}`).join(", ")})`));
        const route = matches.find((candidate) => candidate.method === request.method);
        if (route === undefined) return send(response, errorBody(405, `${request.method ?? "?"} is not allowed on ${path}; use ${matches.map((r) => r.method).join(" or ")}`));
        if (closing) return send(response, errorBody(503, "the server is shutting down"));
        let body: unknown;
        if (route.body) {
            const text = await readBody(request, maxBodyBytes);
            if (text === null) return send(response, errorBody(413, `request body is larger than ${maxBodyBytes} bytes`));
            const json = parseJson(text);
            if (!json.ok) return send(response, errorBody(400, `request body is ${json.error}`));
            body = json.value;
        }
        // the client hanging up aborts the work (a search that gave up on a call should not keep the model busy)
        const controller = new AbortController();
        response.once("close", () => {
            if (!response.writableFinished) controller.abort(new Error("client disconnected"));
        });
        send(response, await route.handler(context, body, controller.signal));
    };

    const server = createServer((request, response) => {
        const work = handle(request, response)
            .catch((error: unknown) => send(response, errorBody(500, error instanceof Error ? error.message : String(error))))
            .finally(() => inFlight.delete(work));
        inFlight.add(work);
    });
    const host = options.host ?? "127.0.0.1";
    await new Promise<void>((resolve, reject) => {
        server.once("error", (error: NodeJS.ErrnoException) =>
            reject(
                new RstarError(error.code === "EADDRINUSE" || error.code === "EACCES" ? "INVALID_ARGUMENT" : "INTERNAL", `cannot listen on ${host}:${options.port ?? 0}: ${error.message}`, {
                    cause: error,
                }),
            ),
        );
        server.listen(options.port ?? 0, host, resolve);
    });
    const address = server.address() as AddressInfo;
    const shownHost = address.family === "IPv6" ? `[${address.address}]` : address.address;
    const url = `http://${shownHost}:${address.port}`;
    let closed: Promise<void> | undefined;
    const close = (graceMs = 10_000): Promise<void> =>
        (closed ??= (async () => {
            closing = true;
            const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
            server.closeIdleConnections();
            let timer: NodeJS.Timeout | undefined;
            await Promise.race([Promise.allSettled([...inFlight]), new Promise((resolve) => (timer = setTimeout(resolve, graceMs)))]);
            clearTimeout(timer);
            server.closeAllConnections();
            await stopped;
        })());
    return { url, baseURL: `${url}/v1`, port: address.port, close, [Symbol.asyncDispose]: () => close() };
}

function send(response: ServerResponse, result: RouteResult): void {
    if (response.destroyed || response.headersSent) return;
    response.writeHead(result.status, { "content-type": "application/json" }).end(JSON.stringify(result.body));
}

function readBody(request: IncomingMessage, limit: number): Promise<string | null> {
    return new Promise((resolve, reject) => {
        const chunks: Buffer[] = [];
        let size = 0;
        let tooLarge = false;
        request.on("data", (chunk: Buffer) => {
            size += chunk.length;
            if (size > limit) tooLarge = true;
            else chunks.push(chunk);
        });
        request.on("end", () => resolve(tooLarge ? null : Buffer.concat(chunks).toString("utf8")));
        request.on("error", reject);
    });
}
