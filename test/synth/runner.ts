import { createSandbox } from "../../src/sandbox/index.js";
import { spawnPythonRunner, type CodeRunner } from "../../src/synth/index.js";

/** The project's sandbox (no preloaded modules: synthetic solutions need none), or plain python3 if it cannot start. */
export async function openRunner(): Promise<CodeRunner & { close(): Promise<void> }> {
    try {
        const sandbox = await createSandbox({ workers: 2, spares: 0, preload: [] });
        return { run: (code, options) => sandbox.run(code, options), close: async () => { await sandbox[Symbol.asyncDispose](); } };
    } catch {
        const runner = spawnPythonRunner();
        return { run: runner.run, close: async () => undefined };
    }
}
