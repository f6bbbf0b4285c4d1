import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { register } from "../../src/cli/commands/exec.js";
import { runInProcess } from "../support/cli.js";

// Runs the exec command in-process (as src/cli/main.ts would), capturing stdout, stderr and the exit code.
const rstarExec = (args: string[]) => runInProcess(register, ["exec", ...args]);

describe("rstar exec", () => {
    const dir = mkdtempSync(join(tmpdir(), "rstar-exec-cli-"));
    afterEach(() => {
        process.exitCode = undefined;
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it("--file prints the observation", async () => {
        const file = join(dir, "prog.py");
        writeFileSync(file, "from fractions import Fraction\nFraction(1, 3) + Fraction(1, 6)\n");
        expect(await rstarExec(["--file", file])).toMatchObject({ stdout: "1/2\n", code: 0 });
    });

    it("--file --json prints the whole result; a failing program still exits 0", async () => {
        const file = join(dir, "exit.py");
        writeFileSync(file, "import sys\nsys.exit(3)\n");
        const { stdout, code } = await rstarExec(["--file", file, "--json", "--timeout-ms", "5000"]);
        expect(code).toBe(0);
        const result = JSON.parse(stdout) as Record<string, unknown>;
        expect(result).toMatchObject({ ok: false, observation: "SystemExit: 3", error: { type: "SystemExit", message: "3" }, timedOut: false });
        expect(typeof result["durationMs"]).toBe("number");
    });

    it("--batch streams results in input order and reports malformed lines (exit 1)", async () => {
        const file = join(dir, "progs.jsonl");
        const lines = [
            JSON.stringify({ id: "slow", code: "import time\ntime.sleep(0.3)\nprint('slow')" }),
            JSON.stringify({ id: 2, code: "print(2 + 2)" }),
            "{not json",
            JSON.stringify({ id: 3 }),
            JSON.stringify({ id: 4, code: "1/0" }),
        ];
        writeFileSync(file, lines.join("\n") + "\n");
        const { stdout, stderr, code } = await rstarExec(["--batch", file, "--concurrency", "2"]);
        expect(code).toBe(1);
        const results = stdout.trim().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
        expect(results.map((r) => r["id"])).toEqual(["slow", 2, 4]);
        expect(results[0]).toMatchObject({ ok: true, observation: "slow", error: null, timedOut: false });
        expect(results[2]).toMatchObject({ ok: false, observation: "ZeroDivisionError: division by zero" });
        expect(stderr).toContain(`${file}:3`);
        expect(stderr).toContain(`${file}:4, field "code"`);
    });

    it("--batch with only good lines exits 0", async () => {
        const file = join(dir, "good.jsonl");
        writeFileSync(file, JSON.stringify({ id: 1, code: "while True: pass" }) + "\n");
        const { stdout, code } = await rstarExec(["--batch", file, "--timeout-ms", "300"]);
        expect(code).toBe(0);
        expect(JSON.parse(stdout)).toMatchObject({ id: 1, ok: false, timedOut: true });
    });

    it("missing files and bad usage exit 2", async () => {
        expect((await rstarExec(["--batch", join(dir, "missing.jsonl")])).code).toBe(2);
        expect((await rstarExec(["--file", join(dir, "missing.py")])).code).toBe(2);
        expect((await rstarExec([])).code).toBe(2);
        expect((await rstarExec(["--file", "a.py", "--batch", "b.jsonl"])).code).toBe(2);
    });

    it("--isolation prints the active layers", async () => {
        const { stdout, code } = await rstarExec(["--isolation"]);
        expect(code).toBe(0);
        expect(JSON.parse(stdout)).toMatchObject({ platform: process.platform, auditHook: true });
    });

    it("has --help", () => {
        const program = new Command("rstar");
        register(program);
        const help = program.commands.find((command) => command.name() === "exec")?.helpInformation() ?? "";
        expect(help).toContain("--batch <path>");
        expect(help).toContain("--timeout-ms <n>");
    });
});
