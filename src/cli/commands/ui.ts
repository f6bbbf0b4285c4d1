import type { Command } from "commander";
import { spawn } from "node:child_process";
import { RstarError } from "../../errors/index.js";
import { createGrader } from "../../grading/index.js";
import { startUiServer } from "../../ui/index.js";
import { ExitCode, type ExitCodeValue } from "../exit-codes.js";
import { onInterrupt } from "../interrupt.js";
import { action } from "../run-command.js";

interface UiFlags {
    port: number;
    host: string;
    open?: boolean;
}

export function register(program: Command): void {
    program
        .command("ui")
        .description("a local, read-only web viewer of search, eval and evolve runs: live progress, metrics, problems and interactive search trees")
        .argument("[run-dir...]", "run directories, or directories holding runs (default: runs)")
        .option("--port <port>", "port (0 picks a free one)", port, 5178)
        .option("--host <host>", "interface to listen on (no authentication: keep it local)", "127.0.0.1")
        .option("--open", "open the viewer in the default browser")
        .addHelpText(
            "after",
            `
Serves only the directories given, read-only (links out of them are refused); runs still being written update
live. Prints the URL on stdout once listening; Ctrl-C stops it. The page's JSON API (GET /api/runs,
/api/runs/ID, /api/runs/ID/problems, /api/runs/ID/problems/INDEX, /api/events) is described in docs/ui.md.

Examples:
  rstar ui runs/                  # every run under runs/
  rstar ui runs/eval-mcts --open

Exit codes: 0 stopped; 2 bad usage (a directory that does not exist, port in use).`,
        )
        .action(action("ui", (dirs: string[], flags: UiFlags) => uiCommand(dirs, flags)));
}

async function uiCommand(dirs: string[], flags: UiFlags): Promise<ExitCodeValue> {
    const grader = createGrader();
    try {
        let server;
        try {
            server = await startUiServer({ dirs: dirs.length > 0 ? dirs : ["runs"], judge: grader, host: flags.host, port: flags.port });
        } catch (error) {
            const code = (error as { code?: unknown }).code;
            if (code === "EADDRINUSE" || code === "EACCES" || code === "EADDRNOTAVAIL") throw new RstarError("INVALID_ARGUMENT", `cannot listen on ${flags.host}:${flags.port}: ${(error as Error).message}`, { cause: error });
            throw error;
        }
        process.stdout.write(`${server.url}\n`);
        process.stderr.write(`rstar ui: serving ${dirs.length > 0 ? dirs.join(", ") : "runs"} read-only at ${server.url} (Ctrl-C to stop)\n`);
        if (flags.open === true) openBrowser(server.url);
        let removeListeners: () => void = () => undefined;
        await new Promise<void>((resolve) => {
            removeListeners = onInterrupt(() => resolve());
        });
        await server.close();
        removeListeners();
        return ExitCode.ok;
    } finally {
        await grader.dispose();
    }
}

function openBrowser(url: string): void {
    const command = process.platform === "darwin" ? "open" : process.platform === "win32" ? "explorer" : "xdg-open";
    try {
        const child = spawn(command, [url], { stdio: "ignore", detached: true });
        child.on("error", () => process.stderr.write(`rstar ui: could not start ${command}; open ${url} yourself\n`));
        child.unref();
    } catch {
        process.stderr.write(`rstar ui: open ${url} in a browser\n`);
    }
}

function port(value: string): number {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < 0 || parsed > 65535) throw new RstarError("INVALID_ARGUMENT", `--port must be an integer in 0..65535, got "${value}"`);
    return parsed;
}
