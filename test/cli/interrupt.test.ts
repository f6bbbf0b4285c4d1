import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

/**
 * node-llama-cpp locks its files with proper-lockfile, which registers signal-exit; signal-exit re-raises SIGINT when
 * its listeners are the only ones left. A one-shot (`once`) listener removes itself before signal-exit looks, so the
 * process died on Ctrl-C before it could record anything or say how to resume.
 */
function survivesSigint(register: string): { status: number | null; signal: string | null; stdout: string } {
    const dir = mkdtempSync(join(tmpdir(), "rstar-interrupt-"));
    const script = join(dir, "script.mjs");
    writeFileSync(
        script,
        `import { onInterrupt } from "${join(process.cwd(), "dist/cli/interrupt.js")}";
import { writeFileSync } from "node:fs";
let heard = 0;
${register}
// as in \`rstar search\`: our listener first, then node-llama-cpp imports proper-lockfile (signal-exit) on first use
const { default: lockfile } = await import("${join(process.cwd(), "node_modules/proper-lockfile/index.js")}");
writeFileSync(${JSON.stringify(join(dir, "locked"))}, "");
await lockfile.lock(${JSON.stringify(join(dir, "locked"))});
process.kill(process.pid, "SIGINT");
await new Promise((resolve) => setTimeout(resolve, 300));
process.stdout.write("alive after SIGINT, heard " + heard);
process.exit(0);
`,
    );
    const ran = spawnSync(process.execPath, [script], { encoding: "utf8", timeout: 30_000 });
    return { status: ran.status, signal: ran.signal, stdout: ran.stdout };
}

describe("onInterrupt", () => {
    it("keeps the process alive on the first Ctrl-C when signal-exit (proper-lockfile) is loaded, where process.once dies", () => {
        expect(survivesSigint("process.once('SIGINT', () => { heard += 1; });")).toMatchObject({ signal: "SIGINT" });
        expect(survivesSigint("onInterrupt(() => { heard += 1; });")).toEqual({ status: 0, signal: null, stdout: "alive after SIGINT, heard 1" });
    });
});
