import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Readable, Writable } from "node:stream";
import { RstarError } from "../errors/index.js";
import { pythonAsset } from "../util/index.js";
import type { NamespaceSupport } from "./namespaces.js";
import type { ResolvedOptions } from "./options.js";
import { encode, parseWorkerLine, type ReadyMessage, type ResultMessage, type RunMessage } from "./protocol.js";
import { workerEnvironment } from "./environment.js";

export type RunOutcome = { kind: "result"; message: ResultMessage } | { kind: "crashed"; reason: string } | { kind: "timeout" };

/** Longest line a worker may send; longer means a program is writing to the protocol descriptor. */
const MAX_LINE = 1 << 20;
const STDERR_TAIL = 4096;

interface Pending {
    id: number;
    resolve: (outcome: RunOutcome) => void;
    timer: NodeJS.Timeout;
}

type Refable = { ref?: () => void; unref?: () => void };

/**
 * One Python worker process (python/sandbox_worker.py), possibly inside `unshare`, in its own process group.
 * It answers one program at a time; every line it sends is validated and must carry the worker's secret token
 * and the id of the request in flight, or the worker is killed as compromised.
 */
export class WorkerProcess {
    readonly index: number;
    programs = 0;
    private readonly child: ChildProcess;
    private readonly token = randomBytes(16).toString("hex");
    private readonly input: Writable;
    private readonly output: Readable;
    private buffer = "";
    private stderrTail = "";
    private pending: Pending | undefined;
    private readyWaiter: { resolve: (message: ReadyMessage) => void; reject: (error: Error) => void } | undefined;
    private exited = false;
    private exitListeners: (() => void)[] = [];
    private killedFor: string | undefined;

    private constructor(index: number, options: ResolvedOptions, namespaces: NamespaceSupport, sandboxRoot: string) {
        this.index = index;
        const scratchRoot = join(sandboxRoot, `w${index}`);
        mkdirSync(scratchRoot, { recursive: true, mode: 0o700 });
        const command = [...namespaces.prefix, options.python, "-s", "-B", pythonAsset("sandbox_worker.py")];
        const [executable, ...args] = command as [string, ...string[]];
        this.child = spawn(executable, args, {
            stdio: ["ignore", "ignore", "pipe", "pipe", "pipe"],
            env: workerEnvironment(scratchRoot, options.env),
            cwd: sandboxRoot,
            detached: true, // own process group (and session): the whole group is killed at once
        });
        this.input = this.child.stdio[3] as Writable;
        this.output = this.child.stdio[4] as Readable;
        this.input.on("error", () => undefined); // EPIPE when the worker died: handled by the exit listener
        this.output.setEncoding("utf8");
        this.output.on("data", (chunk: string) => this.onData(chunk));
        this.child.stderr?.setEncoding("utf8");
        this.child.stderr?.on("data", (chunk: string) => {
            this.stderrTail = (this.stderrTail + chunk).slice(-STDERR_TAIL);
        });
        this.child.on("error", (error) => this.onExit(`could not be started (${error.message})`));
        this.child.on("exit", (code, signal) => {
            // Let lines already written reach onData before treating the request as lost.
            setTimeout(() => this.onExit(signal ? `was killed by ${signal}` : `exited with code ${String(code)}`), 20);
        });
        this.input.write(
            encode({
                type: "init",
                token: this.token,
                scratchRoot,
                memoryBytes: options.memoryBytes,
                fileSizeBytes: options.fileSizeBytes,
                openFiles: options.openFiles,
                maxOutputChars: options.maxOutputChars,
                observationChars: options.observationChars,
                evalfRounding: options.evalfRounding,
                seed: options.seed,
                preload: options.preload,
                dropPrivileges: options.dropPrivileges,
                landlock: options.landlock,
                auditHook: options.auditHook,
            }),
        );
    }

    /** Starts a worker and waits until it has imported its modules and applied its limits. */
    static start(index: number, options: ResolvedOptions, namespaces: NamespaceSupport, sandboxRoot: string): Promise<{ worker: WorkerProcess; ready: ReadyMessage }> {
        const worker = new WorkerProcess(index, options, namespaces, sandboxRoot);
        return new Promise((resolve, reject) => {
            const timer = setTimeout(() => {
                worker.kill("start timeout");
                reject(new RstarError("SANDBOX_START_FAILED", `Python sandbox worker did not start within ${options.startTimeoutMs} ms${worker.stderrHint()}`));
            }, options.startTimeoutMs);
            worker.readyWaiter = {
                resolve: (ready) => {
                    clearTimeout(timer);
                    worker.setIdle();
                    resolve({ worker, ready });
                },
                reject: (error) => {
                    clearTimeout(timer);
                    reject(error);
                },
            };
        });
    }

    get alive(): boolean {
        return !this.exited && this.killedFor === undefined;
    }

    get busy(): boolean {
        return this.pending !== undefined;
    }

    /** Calls listener once the process is gone (immediately if it already is). */
    onceExited(listener: () => void): void {
        if (this.exited) listener();
        else this.exitListeners.push(listener);
    }

    /**
     * Sends one program. Resolves (never rejects) with the worker's result, or `timeout` after hardLimitMs
     * (the worker is then killed), or `crashed` if the worker dies or breaks the protocol first.
     */
    run(message: RunMessage, hardLimitMs: number): Promise<RunOutcome> {
        if (this.pending !== undefined) throw new RstarError("INTERNAL", "sandbox worker is already running a program");
        if (!this.alive) return Promise.resolve({ kind: "crashed", reason: "had already exited" });
        this.setBusy();
        return new Promise((resolve) => {
            const timer = setTimeout(() => {
                this.settle({ kind: "timeout" });
                this.kill("hard timeout");
            }, hardLimitMs);
            this.pending = { id: message.id, resolve, timer };
            this.programs += 1;
            this.input.write(encode(message));
        });
    }

    /** Kills the worker's whole process group (and the worker itself, should it have left the group). */
    kill(reason: string): void {
        this.killedFor ??= reason;
        const pid = this.child.pid;
        if (pid === undefined || this.exited) return;
        this.setBusy(); // keep the event loop alive until the exit is observed
        for (const target of [-pid, pid]) {
            try {
                process.kill(target, "SIGKILL");
            } catch {
                // already gone
            }
        }
    }

    private settle(outcome: RunOutcome): void {
        const pending = this.pending;
        if (pending === undefined) return;
        this.pending = undefined;
        clearTimeout(pending.timer);
        this.setIdle();
        pending.resolve(outcome);
    }

    private onData(chunk: string): void {
        this.buffer += chunk;
        let newline = this.buffer.indexOf("\n");
        while (newline >= 0) {
            const line = this.buffer.slice(0, newline);
            this.buffer = this.buffer.slice(newline + 1);
            this.onLine(line);
            newline = this.buffer.indexOf("\n");
        }
        if (this.buffer.length > MAX_LINE) this.violation("sent a line longer than 1 MiB");
    }

    private onLine(line: string): void {
        if (!this.alive) return;
        const parsed = parseWorkerLine(line);
        if (!parsed.ok) return this.violation(`sent an invalid message: ${parsed.error}`);
        const message = parsed.message;
        if (message.type === "fatal") {
            this.kill("fatal");
            this.readyWaiter?.reject(new RstarError("SANDBOX_START_FAILED", `Python sandbox worker failed to start: ${message.message}`));
            this.readyWaiter = undefined;
            return;
        }
        if (message.token !== this.token) return this.violation("sent a message without its token");
        if (message.type === "ready") {
            if (this.readyWaiter === undefined) return this.violation("sent a second ready message");
            const waiter = this.readyWaiter;
            this.readyWaiter = undefined;
            waiter.resolve(message);
            return;
        }
        if (this.pending === undefined || message.id !== this.pending.id) return this.violation(`sent a result for request ${message.id}, which is not in flight`);
        this.settle({ kind: "result", message });
    }

    private violation(what: string): void {
        this.kill("protocol violation");
        this.settle({ kind: "crashed", reason: `broke the protocol (${what})` });
        this.readyWaiter?.reject(new RstarError("SANDBOX_PROTOCOL", `Python sandbox worker ${what}`));
        this.readyWaiter = undefined;
    }

    private onExit(how: string): void {
        if (this.exited) return;
        this.exited = true;
        const hint = this.stderrHint();
        this.settle({ kind: "crashed", reason: `${how} while running the program${hint}` });
        this.readyWaiter?.reject(new RstarError("SANDBOX_START_FAILED", `Python sandbox worker ${how} during start-up${hint}`));
        this.readyWaiter = undefined;
        for (const listener of this.exitListeners.splice(0)) listener();
    }

    private stderrHint(): string {
        const lines = this.stderrTail.trim().split("\n").filter((line) => line.trim() !== "");
        const last = lines.slice(-3).join(" | ");
        return last ? ` (stderr: ${last.slice(0, 500)})` : "";
    }

    // An idle worker does not keep the Node process alive; a busy one does.
    private setIdle(): void {
        for (const handle of [this.child, this.output, this.input, this.child.stderr] as unknown as Refable[]) handle?.unref?.();
    }

    private setBusy(): void {
        for (const handle of [this.child, this.output, this.input, this.child.stderr] as unknown as Refable[]) handle?.ref?.();
    }
}
