import { resolveOptions } from "./options.js";
import { SandboxPool } from "./pool.js";
import type { Sandbox, SandboxOptions } from "./types.js";

export type { ExecError, ExecResult, IsolationReport, IsolationSwitches, RunOptions, Sandbox, SandboxOptions, SandboxStats } from "./types.js";

/**
 * Starts a pool of warm, isolated Python workers for rStar code steps (see docs/sandbox.md).
 * Resolves once the workers are ready; fails with PYTHON_UNAVAILABLE, SANDBOX_START_FAILED or INVALID_ARGUMENT.
 * Dispose it (`await sandbox.dispose()` or `await using sandbox = ...`) to stop the workers.
 */
export async function createSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
    const pool = new SandboxPool(resolveOptions(options));
    await pool.start();
    return pool;
}
