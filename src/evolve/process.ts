import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { RstarError } from "../errors/index.js";
import { packageRoot } from "../util/index.js";

/** A stage's command: an `rstar` subcommand (run with this Node and this package) or a user's shell command. */
export type StageCommand = { kind: "rstar"; args: string[] } | { kind: "shell"; command: string };

/** How a command is shown (dry run, logs, state files): `rstar search --dataset …` or the shell text. */
export function displayCommand(command: StageCommand): string {
    return command.kind === "shell" ? command.command : ["rstar", ...command.args].map(shellQuote).join(" ");
}

/** A server command with its {port} filled in. */
export function withPort(command: StageCommand, port: string): StageCommand {
    return command.kind === "shell" ? { kind: "shell", command: command.command.replaceAll("{port}", port) } : { kind: "rstar", args: command.args.map((arg) => arg.replaceAll("{port}", port)) };
}

export function shellQuote(value: string): string {
    return /^[A-Za-z0-9_@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

function argvOf(command: StageCommand): { file: string; args: string[] } {
    if (command.kind === "shell") return { file: "/bin/sh", args: ["-c", command.command] };
    return { file: process.execPath, args: [join(packageRoot(), "bin", "rstar.js"), ...command.args] };
}

export interface ChildResult {
    code: number | null;
    signal: NodeJS.Signals | null;
    /** Last lines of stdout (rstar commands print their --json summary there). */
    stdout: string;
}

/**
 * Runs a command in its own process group (so a stop reaches the Python workers it starts), forwarding each stderr
 * line to `onLine`. `onStart` gets the pid (the state file records it, so a test can kill -9 the stage).
 */
export function runChild(command: StageCommand, options: { cwd: string; onLine: (line: string) => void; onStart?: (pid: number) => void; signal?: AbortSignal; env?: NodeJS.ProcessEnv }): Promise<ChildResult> {
    const { file, args } = argvOf(command);
    const child = spawn(file, args, { cwd: options.cwd, detached: true, stdio: ["ignore", "pipe", "pipe"], env: options.env ?? process.env });
    if (child.pid !== undefined) options.onStart?.(child.pid);
    let stdout = "";
    child.stdout?.on("data", (chunk: Buffer) => {
        stdout = (stdout + chunk.toString("utf8")).slice(-1_000_000);
    });
    if (child.stderr) createInterface({ input: child.stderr }).on("line", options.onLine);
    const stop = () => killGroup(child, "SIGINT");
    options.signal?.addEventListener("abort", stop, { once: true });
    return new Promise((resolve, reject) => {
        child.once("error", (error) => reject(new RstarError("INTERNAL", `cannot start ${displayCommand(command)}: ${error.message}`, { cause: error })));
        child.once("close", (code, signal) => {
            options.signal?.removeEventListener("abort", stop);
            // Whatever the stage left running in its group (a killed stage's workers) goes with it.
            killGroup(child, "SIGKILL");
            resolve({ code, signal, stdout });
        });
    });
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
    if (child.pid === undefined) return;
    try {
        process.kill(-child.pid, signal);
    } catch {
        // The group is gone.
    }
}

/** A port free right now on 127.0.0.1 (for a server command's {port}). */
export function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const server = createServer();
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => {
            const address = server.address();
            const port = typeof address === "object" && address !== null ? address.port : 0;
            server.close(() => resolve(port));
        });
    });
}

export interface RunningServer {
    url: string;
    /** The server's process group (its leader's pid). */
    pid: number | null;
    stop(): Promise<void>;
}

/**
 * Starts a server command and waits until `GET {url}/models` answers (vLLM, SGLang, llama.cpp's server and
 * `rstar serve` / `rstar teacher serve` all serve it). Fails with BACKEND_UNAVAILABLE if it exits or times out first.
 */
export async function startServer(command: StageCommand, url: string, options: { cwd: string; readyTimeoutMs: number; onLine: (line: string) => void; probePath?: string }): Promise<RunningServer> {
    const { file, args } = argvOf(command);
    const child = spawn(file, args, { cwd: options.cwd, detached: true, stdio: ["ignore", "ignore", "pipe"] });
    const tail: string[] = [];
    if (child.stderr) {
        createInterface({ input: child.stderr }).on("line", (line) => {
            tail.push(line);
            if (tail.length > 20) tail.shift();
            options.onLine(line);
        });
    }
    let exited: { code: number | null; signal: NodeJS.Signals | null } | null = null;
    const closed = new Promise<void>((resolve) => child.once("close", (code, signal) => ((exited = { code, signal }), resolve())));
    child.once("error", () => undefined);
    const stop = async () => {
        if (exited === null) {
            killGroup(child, "SIGTERM");
            const timer = setTimeout(() => killGroup(child, "SIGKILL"), 5_000);
            await closed;
            clearTimeout(timer);
        }
        killGroup(child, "SIGKILL");
    };
    const deadline = Date.now() + options.readyTimeoutMs;
    const probe = url.replace(/\/+$/, "") + (options.probePath ?? "/models");
    while (Date.now() < deadline) {
        if (exited !== null) {
            const { code, signal } = exited as { code: number | null; signal: NodeJS.Signals | null };
            throw new RstarError("BACKEND_UNAVAILABLE", `server command exited (${signal ?? `code ${code}`}) before it answered ${probe}: ${displayCommand(command)}\n${tail.join("\n")}`);
        }
        try {
            const response = await fetch(probe, { signal: AbortSignal.timeout(2_000) });
            if (response.ok) return { url, pid: child.pid ?? null, stop };
        } catch {
            // Not listening yet.
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await stop();
    throw new RstarError("BACKEND_UNAVAILABLE", `server did not answer ${probe} within ${Math.round(options.readyTimeoutMs / 1000)} s: ${displayCommand(command)}`);
}

/**
 * Kills what an earlier orchestrator left running (it was killed with -9 while a stage or a server ran): the process
 * group of each pid, if it is still alive. Returns the pids that were alive.
 */
export function killLeftovers(pids: readonly number[]): number[] {
    const alive: number[] = [];
    for (const pid of pids) {
        try {
            process.kill(-pid, 0);
        } catch {
            continue;
        }
        alive.push(pid);
        try {
            process.kill(-pid, "SIGKILL");
        } catch {
            // Gone meanwhile.
        }
    }
    return alive;
}
