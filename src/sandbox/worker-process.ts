import { spawn, type ChildProcess } from "node:child_process";
import { performance } from "node:perf_hooks";
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

/**
 * How one program sent to a worker ended. `requeue`: the program was sent but never started (it was queued in the
 * worker's pipeline behind a program after which the worker had to be retired, or the worker died before reaching
 * it); the pool hands it to another worker.
 */
export type RunOutcome =
    | { kind: "result"; message: ResultMessage; startedAt: number }
    | { kind: "crashed"; reason: string; startedAt: number }
    | { kind: "timeout"; startedAt: number }
    | { kind: "requeue" };

/** Longest line a worker may send; longer means a program is writing to the protocol descriptor. */
const MAX_LINE = 1 << 20;
const STDERR_TAIL = 4096;

interface Pending {
    id: number;
    hardLimitMs: number;
    resolve: (outcome: RunOutcome) => void;
    /** When the program became the head of the pipeline (the one the worker is running); 0 while it waits. */
    startedAt: number;
}

type Refable = { ref?: () => void; unref?: () => void };

/**
 * One Python worker process (python/sandbox_worker.py), possibly inside `unshare`, in its own process group.
 * Programs are pipelined: several may be sent at once (one pipe write), the worker runs them one at a time in
 * order and answers each as soon as it finishes. Every line it sends is validated and must carry the worker's
 * secret token and the id of the oldest request in flight (the one running), or the worker is killed as compromised.
 * The hard timeout applies to the running program only, counted from the answer to the one before it.
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
    private readonly pending: Pending[] = [];
    private headTimer: NodeJS.Timeout | undefined;
    private readyWaiter: { resolve: (message: ReadyMessage) => void; reject: (error: Error) => void } | undefined;
    private exited = false;
    private exitListeners: (() => void)[] = [];
    private killedFor: string | undefined;
    /** The worker answered with a recycle reason: it stops running programs and waits to be killed. */
    private retiring = false;

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
                prefixCache: options.prefixReuse ? options.prefixCache : 0,
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

    /** Alive and not about to be retired: it may be given more programs. */
    get usable(): boolean {
        return this.alive && !this.retiring;
    }

    get busy(): boolean {
        return this.pending.length > 0;
    }

    /** Programs sent and not yet answered (the running one and those queued behind it). */
    get inFlight(): number {
        return this.pending.length;
    }

    /** Calls listener once the process is gone (immediately if it already is). */
    onceExited(listener: () => void): void {
        if (this.exited) listener();
        else this.exitListeners.push(listener);
    }

    /**
     * Sends programs (one write). Each promise resolves (never rejects) with the worker's result, or `timeout` after
     * its hardLimitMs as the running program (the worker is then killed), or `crashed` if the worker dies or breaks
     * the protocol while running it, or `requeue` if it was never started.
     */
    send(messages: readonly { message: RunMessage; hardLimitMs: number }[]): Promise<RunOutcome>[] {
        if (!this.usable) return messages.map(() => Promise.resolve<RunOutcome>({ kind: "requeue" }));
        this.setBusy();
        const outcomes = messages.map(
            ({ message, hardLimitMs }) =>
                new Promise<RunOutcome>((resolve) => {
                    this.pending.push({ id: message.id, hardLimitMs, resolve, startedAt: 0 });
                }),
        );
        this.programs += messages.length;
        this.input.write(messages.map(({ message }) => encode(message)).join(""));
        this.startHead();
        return outcomes;
    }

    /** Sends one program; see send(). */
    run(message: RunMessage, hardLimitMs: number): Promise<RunOutcome> {
        return this.send([{ message, hardLimitMs }])[0] as Promise<RunOutcome>;
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

    /** Arms the hard timeout of the program now at the head of the pipeline, if not armed yet. */
    private startHead(): void {
        const head = this.pending[0];
        if (head === undefined || head.startedAt !== 0) return;
        head.startedAt = performance.now();
        this.headTimer = setTimeout(() => {
            this.kill("hard timeout");
            this.settleHead({ kind: "timeout", startedAt: head.startedAt });
        }, head.hardLimitMs);
    }

    /** Answers the running program; the next one becomes the head. */
    private settleHead(outcome: RunOutcome): void {
        const head = this.pending.shift();
        if (head === undefined) return;
        clearTimeout(this.headTimer);
        this.headTimer = undefined;
        head.resolve(outcome);
        if (!this.usable) this.requeueRest();
        else if (this.pending.length > 0) this.startHead();
        else this.setIdle();
    }

    /** The worker will run nothing more: programs behind the head were never started. */
    private requeueRest(): void {
        for (const waiting of this.pending.splice(0)) waiting.resolve({ kind: "requeue" });
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
        const head = this.pending[0];
        if (head === undefined || message.id !== head.id) return this.violation(`sent a result for request ${message.id}, which is not the one running`);
        if (message.recycle.length > 0) this.retiring = true; // it runs nothing more; the pool kills it
        this.settleHead({ kind: "result", message, startedAt: head.startedAt });
    }

    private violation(what: string): void {
        this.kill("protocol violation");
        const head = this.pending[0];
        if (head !== undefined) this.settleHead({ kind: "crashed", reason: `broke the protocol (${what})`, startedAt: head.startedAt || performance.now() });
        this.readyWaiter?.reject(new RstarError("SANDBOX_PROTOCOL", `Python sandbox worker ${what}`));
        this.readyWaiter = undefined;
    }

    private onExit(how: string): void {
        if (this.exited) return;
        this.exited = true;
        const hint = this.stderrHint();
        const head = this.pending[0];
        if (head !== undefined) this.settleHead({ kind: "crashed", reason: `${how} while running the program${hint}`, startedAt: head.startedAt || performance.now() });
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
