import { spawn } from "node:child_process";

/** Runs a program and returns its rStar observation. The project's sandbox (`createSandbox`) is one. */
export interface CodeRunner {
    run(code: string, options?: { timeoutMs?: number }): Promise<{ ok: boolean; observation: string }>;
}

/**
 * A minimal runner: one `python -c` process per program, no isolation. For trusted code only (the reference
 * solutions and the teacher's own steps); use the sandbox for anything else. The observation is stdout, or the last
 * line of stderr (`ErrorType: message`) when the program fails.
 */
export function spawnPythonRunner(python = "python3", defaultTimeoutMs = 10_000): CodeRunner {
    return {
        run: (code, options = {}) =>
            new Promise((resolve) => {
                const child = spawn(python, ["-c", code], { stdio: ["ignore", "pipe", "pipe"], env: { PATH: process.env["PATH"] ?? "", PYTHONHASHSEED: "0" } });
                let stdout = "";
                let stderr = "";
                child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
                child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
                const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? defaultTimeoutMs);
                child.on("error", (error) => {
                    clearTimeout(timer);
                    resolve({ ok: false, observation: `OSError: ${error.message}` });
                });
                child.on("close", (status, signal) => {
                    clearTimeout(timer);
                    if (status === 0) resolve({ ok: true, observation: stdout.trim() });
                    else if (signal !== null) resolve({ ok: false, observation: "TimeoutError: the program took too long" });
                    else resolve({ ok: false, observation: stderr.trim().split("\n").pop() ?? `exit status ${status}` });
                });
            }),
    };
}
