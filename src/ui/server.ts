import Fastify, { type FastifyReply, type FastifyRequest } from "fastify";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import type { ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { extname, join } from "node:path";
import { RstarError, describeError } from "../errors/index.js";
import type { AnswerJudge } from "../search/index.js";
import { packageRoot } from "../util/index.js";
import { resolveRoots, scanRuns, type CatalogRun } from "./catalog.js";
import { RunReader } from "./run-data.js";
import type { RunListEntry } from "./api-types.js";

export interface UiServerOptions {
    /** Run directories, or directories holding runs (searched a few levels down). Nothing outside them is served. */
    dirs: readonly string[];
    /** Grades search runs' answers for the metrics (the grader `rstar report` uses). */
    judge: AnswerJudge;
    /** Defaults to 127.0.0.1: the viewer has no authentication. */
    host?: string;
    /** 0 (default) picks a free port. */
    port?: number;
    /** How often open event streams look for changes in the runs' files. Defaults to 500. @unit ms */
    pollMs?: number;
    /** How often they look for new run directories. Defaults to 2000. @unit ms */
    scanMs?: number;
    /** The built front end (index.html, assets/). Defaults to the package's dist/ui/web. */
    webDir?: string;
}

export interface UiServer extends AsyncDisposable {
    /** `http://host:port/` */
    url: string;
    port: number;
    close(): Promise<void>;
}

const CONTENT_TYPES: Record<string, string> = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".json": "application/json",
};

const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1", "[::1]"]);

/**
 * `rstar ui`: a read-only web viewer of run directories. The JSON API lives under /api/ (docs/ui.md); the page is the
 * Preact app Vite built into dist/ui. Only GET is served; runs are named by opaque ids from the catalog, so a path
 * never comes from a request; links out of the given directories are refused. `GET /api/events` is a server-sent
 * event stream: while one is open the server looks at the runs' files every `pollMs` and sends only what changed.
 */
export async function startUiServer(options: UiServerOptions): Promise<UiServer> {
    const roots = resolveRoots(options.dirs);
    const reader = new RunReader(roots, options.judge);
    const webDir = options.webDir ?? join(packageRoot(), "dist", "ui", "web");
    const host = options.host ?? "127.0.0.1";
    const pollMs = options.pollMs ?? 500;
    const scanMs = options.scanMs ?? 2000;

    let catalog: CatalogRun[] = scanRuns(roots);
    let scannedAt = Date.now();
    const rescan = () => {
        catalog = scanRuns(roots);
        scannedAt = Date.now();
    };
    const find = (id: string) => {
        let run = catalog.find((entry) => entry.id === id);
        if (run === undefined && Date.now() - scannedAt > 250) {
            rescan();
            run = catalog.find((entry) => entry.id === id);
        }
        return run;
    };
    const listEntry = (run: CatalogRun): RunListEntry => ({ id: run.id, kind: run.kind, path: run.path, parent: run.parent, progress: reader.progress(run) });

    const app = Fastify({ logger: false, forceCloseConnections: true });
    const streams = new Set<ServerResponse>();

    // DNS rebinding: a page elsewhere must not reach a loopback viewer through a name that resolves here.
    app.addHook("onRequest", async (request, reply) => {
        if (LOOPBACK.has(host)) {
            const hostname = (request.headers.host ?? "").replace(/:\d+$/, "");
            if (!LOOPBACK.has(hostname)) return reply.code(403).send({ error: { code: "FORBIDDEN_HOST", message: "the viewer answers only requests to localhost" } });
        }
        if (request.method !== "GET" && request.method !== "HEAD") return reply.code(405).header("allow", "GET, HEAD").send({ error: { code: "READ_ONLY", message: "the viewer is read-only: only GET" } });
        return undefined;
    });
    app.addHook("onSend", async (_request, reply, payload) => {
        reply.header("x-content-type-options", "nosniff");
        reply.header("referrer-policy", "no-referrer");
        reply.header("content-security-policy", "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'");
        return payload;
    });
    app.setErrorHandler((error, _request, reply) => {
        if (RstarError.isInstance(error) && (error.code === "INVALID_ARGUMENT" || error.code === "INVALID_INPUT")) return reply.code(400).send({ error: { code: error.code, message: error.message } });
        return reply.code(500).send({ error: { code: RstarError.isInstance(error) ? error.code : "INTERNAL", message: describeError(error) } });
    });
    app.setNotFoundHandler((request, reply) => reply.code(404).send({ error: { code: "NOT_FOUND", message: `no such resource: ${request.url.slice(0, 200)}` } }));

    const runOr404 = (request: FastifyRequest, reply: FastifyReply): CatalogRun | null => {
        const id = (request.params as { id: string }).id;
        const run = /^[0-9a-f]{12}$/.test(id) ? find(id) : undefined;
        if (run === undefined) {
            void reply.code(404).send({ error: { code: "NO_SUCH_RUN", message: `no run with id "${id.slice(0, 100)}" (GET /api/runs lists them)` } });
            return null;
        }
        return run;
    };

    app.get("/api/runs", async () => {
        rescan();
        return { roots, runs: catalog.map(listEntry) };
    });
    app.get("/api/runs/:id", async (request, reply) => {
        const run = runOr404(request, reply);
        if (run === null) return reply;
        return reader.summary(run, catalog);
    });
    app.get("/api/runs/:id/problems", async (request, reply) => {
        const run = runOr404(request, reply);
        if (run === null) return reply;
        return { id: run.id, problems: await reader.problems(run) };
    });
    app.get("/api/runs/:id/problems/:index", async (request, reply) => {
        const run = runOr404(request, reply);
        if (run === null) return reply;
        const raw = (request.params as { index: string }).index;
        if (!/^\d{1,9}$/.test(raw)) return reply.code(400).send({ error: { code: "INVALID_ARGUMENT", message: `a problem index is a dataset position (0, 1, ...), got "${raw.slice(0, 100)}"` } });
        const tree = await reader.tree(run, Number(raw));
        if (tree === null) return reply.code(404).send({ error: { code: "NO_SUCH_PROBLEM", message: `problem ${raw} is not in ${run.path} (not finished yet, or not in its dataset slice)` } });
        return tree;
    });

    // Live updates: one poller for all open streams; it sends the run list when any run's files changed.
    const signatures = new Map<string, string>();
    let lastIds = "";
    let lastBody = "";
    let lastScan = 0;
    let timer: NodeJS.Timeout | null = null;
    const changedList = (): string | null => {
        if (Date.now() - lastScan >= scanMs) {
            rescan();
            lastScan = Date.now();
        }
        const ids = catalog.map((run) => run.id).join(",");
        let changed = ids !== lastIds;
        lastIds = ids;
        for (const run of catalog) {
            const signature = reader.signature(run);
            if (signatures.get(run.id) !== signature) {
                signatures.set(run.id, signature);
                changed = true;
            }
        }
        if (!changed) return null;
        const body = JSON.stringify({ runs: catalog.map(listEntry) });
        if (body === lastBody) return null;
        lastBody = body;
        return body;
    };
    const send = (stream: ServerResponse, event: string, data: string) => stream.write(`event: ${event}\ndata: ${data}\n\n`);
    const poll = () => {
        try {
            const body = changedList();
            if (body !== null) for (const stream of streams) send(stream, "runs", body);
        } catch (error) {
            for (const stream of streams) send(stream, "failure", JSON.stringify({ message: describeError(error) }));
        }
    };
    let heartbeat = 0;
    app.get("/api/events", (request, reply) => {
        reply.hijack();
        const stream = reply.raw;
        stream.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-store", connection: "keep-alive", "x-content-type-options": "nosniff" });
        stream.write(`retry: 2000\n\n`);
        rescan();
        const body = JSON.stringify({ runs: catalog.map(listEntry) });
        send(stream, "runs", body);
        if (streams.size === 0) lastBody = body;
        streams.add(stream);
        if (timer === null) {
            timer = setInterval(() => {
                poll();
                heartbeat += pollMs;
                if (heartbeat >= 15_000) {
                    heartbeat = 0;
                    for (const open of streams) open.write(": keep-alive\n\n");
                }
            }, pollMs);
        }
        request.raw.on("close", () => {
            streams.delete(stream);
            if (streams.size === 0 && timer !== null) {
                clearInterval(timer);
                timer = null;
            }
        });
    });

    // The front end: index.html at / and the files Vite wrote to assets/, listed once (no path from a request reaches the disk).
    const files = new Map<string, string>();
    if (existsSync(join(webDir, "index.html"))) {
        files.set("/", join(webDir, "index.html"));
        const assets = join(webDir, "assets");
        if (existsSync(assets)) for (const name of readdirSync(assets)) if (/^[\w.-]+$/.test(name)) files.set(`/assets/${name}`, join(assets, name));
        for (const name of readdirSync(webDir)) if (/^[\w.-]+\.(svg|ico|png)$/.test(name)) files.set(`/${name}`, join(webDir, name));
    }
    const serveFile = async (request: FastifyRequest, reply: FastifyReply) => {
        const path = request.url.split("?")[0] ?? "/";
        const file = files.get(path === "/index.html" ? "/" : path);
        if (file === undefined) {
            if (path === "/") return reply.code(500).type("text/plain").send("the viewer's front end is not built: run `npm run build` (it writes dist/ui/web)");
            return reply.code(404).send({ error: { code: "NOT_FOUND", message: `no such file: ${path.slice(0, 200)}` } });
        }
        const type = CONTENT_TYPES[extname(file)] ?? "application/octet-stream";
        return reply.type(type).header("cache-control", path.startsWith("/assets/") ? "public, max-age=31536000, immutable" : "no-cache").send(readFileSync(file));
    };
    app.get("/", serveFile);
    app.get("/index.html", serveFile);
    app.get("/assets/:name", serveFile);
    app.get("/:name", serveFile);

    await app.listen({ host, port: options.port ?? 0 });
    const address = app.server.address() as AddressInfo;
    const shownHost = host.includes(":") ? `[${host}]` : host;
    const url = `http://${shownHost}:${address.port}/`;
    const close = async () => {
        if (timer !== null) clearInterval(timer);
        timer = null;
        for (const stream of streams) stream.end();
        streams.clear();
        await app.close();
    };
    return { url, port: address.port, close, [Symbol.asyncDispose]: close };
}
