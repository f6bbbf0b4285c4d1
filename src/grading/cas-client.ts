/**
 * The long-lived sympy helper (python/grading_cas.py): one process, one request at a time, newline-delimited JSON
 * with request ids, responses validated with zod. A request that runs past its budget kills the process; the next
 * request starts a fresh one.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { createInterface } from "node:readline";
import { z } from "zod";
import { RstarError } from "../errors/index.js";
import { parseJson, pythonAsset } from "../util/index.js";

export interface CasVerdict {
    equal: boolean;
    method: string;
    reason?: string;
}

const ready = z.object({ ready: z.literal(true), sympy: z.string() });
const response = z.union([
    z.object({
        id: z.number().int(),
        results: z.array(z.object({ equal: z.boolean(), method: z.string().max(200), reason: z.string().max(2000).nullable() })),
    }),
    z.object({ id: z.number().int().nullable(), error: z.string() }),
]);

interface Pending {
    id: number;
    resolve: (value: CasVerdict[]) => void;
    reject: (error: RstarError) => void;
    timer: NodeJS.Timeout;
}

export interface CasClientOptions {
    python: string;
    startupTimeoutMs: number;
}

export class CasClient {
    private child: ChildProcessWithoutNullStreams | undefined;
    private starting: Promise<void> | undefined;
    private pending: Pending | undefined;
    private queue: Promise<unknown> = Promise.resolve();
    private nextId = 1;
    private stderrTail = "";
    private disposed = false;
    /** How many times the helper was killed for running past its budget. */
    restarts = 0;

    constructor(private readonly options: CasClientOptions) {}

    /** Asks one batch of queries; rejects with GRADER_UNAVAILABLE or BACKEND_TIMEOUT-like codes (caught by the grader). */
    ask(queries: unknown[], timeoutMs: number): Promise<CasVerdict[]> {
        const run = this.queue.then(() => this.send(queries, timeoutMs));
        this.queue = run.catch(() => undefined);
        return run;
    }

    private async send(queries: unknown[], timeoutMs: number): Promise<CasVerdict[]> {
        if (this.disposed) throw new RstarError("GRADER_UNAVAILABLE", "grader disposed");
        await this.start();
        const child = this.child;
        if (child === undefined) throw new RstarError("GRADER_UNAVAILABLE", "CAS helper is not running");
        const id = this.nextId++;
        return new Promise<CasVerdict[]>((resolve, reject) => {
            const timer = setTimeout(() => {
                this.pending = undefined;
                this.kill();
                this.restarts++;
                reject(new RstarError("GRADER_TIMEOUT", `CAS did not answer within ${timeoutMs} ms; helper restarted`));
            }, timeoutMs);
            this.pending = { id, resolve, reject, timer };
            child.stdin.write(JSON.stringify({ id, queries }) + "\n");
        });
    }

    private start(): Promise<void> {
        if (this.child !== undefined) return Promise.resolve();
        if (this.starting !== undefined) return this.starting;
        this.starting = new Promise<void>((resolve, reject) => {
            let child: ChildProcessWithoutNullStreams;
            try {
                child = spawn(this.options.python, ["-u", pythonAsset("grading_cas.py")], { stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1" } });
            } catch (error) {
                this.starting = undefined;
                reject(new RstarError("GRADER_UNAVAILABLE", `cannot start the CAS helper: ${String(error)}`, { cause: error }));
                return;
            }
            let isReady = false;
            const timer = setTimeout(() => {
                if (isReady) return;
                child.kill("SIGKILL");
                this.starting = undefined;
                reject(new RstarError("GRADER_UNAVAILABLE", `CAS helper did not start within ${this.options.startupTimeoutMs} ms. ${this.stderrTail}`));
            }, this.options.startupTimeoutMs);
            child.stderr.on("data", (chunk: Buffer) => {
                this.stderrTail = (this.stderrTail + chunk.toString("utf8")).slice(-2000);
            });
            child.on("error", (error) => {
                clearTimeout(timer);
                this.starting = undefined;
                if (this.child === child) this.child = undefined;
                if (!isReady) reject(new RstarError("GRADER_UNAVAILABLE", `cannot start the CAS helper: ${error.message}`, { cause: error }));
            });
            child.on("exit", (code, signal) => {
                clearTimeout(timer);
                if (this.child === child) this.child = undefined;
                this.starting = undefined;
                const message = `CAS helper exited (${signal ?? `code ${code}`}). ${this.stderrTail.trim().split("\n").slice(-3).join(" ")}`;
                if (!isReady) reject(new RstarError("GRADER_UNAVAILABLE", message));
                const pending = this.pending;
                if (pending !== undefined) {
                    this.pending = undefined;
                    clearTimeout(pending.timer);
                    pending.reject(new RstarError("GRADER_UNAVAILABLE", message));
                }
            });
            child.stdin.on("error", () => undefined);
            const lines = createInterface({ input: child.stdout, crlfDelay: Infinity });
            lines.on("line", (line) => {
                const parsed = parseJson(line);
                if (!isReady) {
                    const ok = parsed.ok ? ready.safeParse(parsed.value) : undefined;
                    if (ok?.success) {
                        isReady = true;
                        clearTimeout(timer);
                        this.child = child;
                        this.starting = undefined;
                        resolve();
                    }
                    return;
                }
                this.onLine(parsed);
            });
            // Do not keep the event loop alive for an idle helper; a pending request's timer does that.
            child.unref();
            for (const stream of [child.stdin, child.stdout, child.stderr]) (stream as unknown as { unref?: () => void }).unref?.();
        });
        return this.starting;
    }

    private onLine(parsed: ReturnType<typeof parseJson>): void {
        const pending = this.pending;
        if (pending === undefined) return;
        const checked = parsed.ok ? response.safeParse(parsed.value) : undefined;
        if (!checked?.success) {
            this.pending = undefined;
            clearTimeout(pending.timer);
            this.kill();
            pending.reject(new RstarError("GRADER_UNAVAILABLE", "CAS helper sent a malformed response; restarted"));
            return;
        }
        const value = checked.data;
        if (value.id !== pending.id) return;
        this.pending = undefined;
        clearTimeout(pending.timer);
        if ("error" in value) pending.reject(new RstarError("INTERNAL", `CAS helper rejected a request: ${value.error}`));
        else pending.resolve(value.results.map((r) => (r.reason === null ? { equal: r.equal, method: r.method } : { equal: r.equal, method: r.method, reason: r.reason })));
    }

    private kill(): void {
        const child = this.child;
        this.child = undefined;
        this.starting = undefined;
        if (child !== undefined && child.exitCode === null) child.kill("SIGKILL");
    }

    dispose(): void {
        this.disposed = true;
        const pending = this.pending;
        this.pending = undefined;
        if (pending !== undefined) {
            clearTimeout(pending.timer);
            pending.reject(new RstarError("GRADER_UNAVAILABLE", "grader disposed"));
        }
        this.kill();
    }
}
