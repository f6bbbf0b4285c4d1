import { spawn, type ChildProcessByStdio } from "node:child_process";
import type { Readable } from "node:stream";
import { Command } from "commander";
import { vi } from "vitest";

/** What a finished `rstar` command left: its exit code and everything it wrote. */
export interface CliResult {
    code: number;
    /** The signal that ended the child, if one did (child processes only). */
    signal?: NodeJS.Signals | null;
    stdout: string;
    stderr: string;
}

/**
 * Where a spawned `rstar` comes from: "dist" runs `bin/rstar.js` (the built package: run `npm run build` first),
 * "source" runs `src/cli/main.ts` through tsx (no build needed).
 */
export type CliEntry = "dist" | "source";

/** Starts `rstar ...args` as a child process with piped stdout and stderr (for commands that keep running). */
export function spawnRstar(args: readonly string[], entry: CliEntry = "dist"): ChildProcessByStdio<null, Readable, Readable> {
    const command = entry === "dist" ? ["bin/rstar.js"] : ["--import", "tsx", "src/cli/main.ts"];
    return spawn(process.execPath, [...command, ...args], { stdio: ["ignore", "pipe", "pipe"] });
}

/** Collects a child's output until it exits. */
export function collect(child: ChildProcessByStdio<null, Readable, Readable>): Promise<CliResult> {
    return new Promise((resolve) => {
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
        child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
        child.on("exit", (code, signal) => resolve({ code: code ?? -1, signal, stdout, stderr }));
    });
}

/** Runs `rstar ...args` as a child process to the end. */
export function runRstar(args: readonly string[], entry: CliEntry = "dist"): Promise<CliResult> {
    return collect(spawnRstar(args, entry));
}

/** The first line a child writes on stdout (e.g. the base URL a server prints once listening). */
export function firstLine(child: ChildProcessByStdio<null, Readable, Readable>): Promise<string> {
    return new Promise((resolve, reject) => {
        let seen = "";
        const onData = (chunk: Buffer) => {
            seen += chunk.toString();
            const end = seen.indexOf("\n");
            if (end < 0) return;
            child.stdout.off("data", onData);
            resolve(seen.slice(0, end).trim());
        };
        child.stdout.on("data", onData);
        child.once("exit", (code) => reject(new Error(`exited ${code} before writing a line`)));
    });
}

/**
 * Runs commands in this process, as src/cli/main.ts wires them: `register` adds them to a fresh program; stdout and
 * stderr are captured; the exit code is `process.exitCode`, or 2 when commander refuses the usage (0 for --help).
 */
export async function runInProcess(register: ((program: Command) => void) | readonly ((program: Command) => void)[], args: readonly string[]): Promise<CliResult> {
    const program = new Command("rstar").exitOverride();
    for (const add of Array.isArray(register) ? register : [register]) add(program);
    program.commands.forEach((command) => command.exitOverride().commands.forEach((sub) => sub.exitOverride()));
    let stdout = "";
    let stderr = "";
    const out = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => ((stdout += String(chunk)), true));
    const err = vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => ((stderr += String(chunk)), true));
    process.exitCode = 0;
    let code = 0;
    try {
        await program.parseAsync(["node", "rstar", ...args]);
        code = Number(process.exitCode ?? 0);
    } catch (error) {
        code = (error as { exitCode?: number }).exitCode === 0 ? 0 : 2;
    } finally {
        out.mockRestore();
        err.mockRestore();
        process.exitCode = 0;
    }
    return { code, stdout, stderr };
}
