import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

// Runs only the grade command (through tsx), so the test does not depend on a build or on other commands.
const entry = join(import.meta.dirname, "grade-entry.ts");
function rstar(args: string[], input?: string): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync(process.execPath, ["--import", "tsx", entry, ...args], { encoding: "utf8", input, timeout: 120_000 });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("rstar grade", () => {
    it("prints true/false and --json", () => {
        expect(rstar(["grade", "--gold", "\\frac{1}{2}", "--pred", "0.5"])).toMatchObject({ status: 0, stdout: "true\n" });
        expect(rstar(["grade", "--gold", "2", "--pred", "3"]).stdout).toBe("false\n");
        const json = JSON.parse(rstar(["grade", "--gold", "3", "--pred", "so \\boxed{3}", "--extract", "--json"]).stdout) as unknown;
        expect(json).toEqual({ equal: true, method: "fast" });
    });

    it("grades a JSONL file in order, marks malformed lines and exits 1", () => {
        const dir = mkdtempSync(join(tmpdir(), "rstar-grade-"));
        const file = join(dir, "cases.jsonl");
        writeFileSync(
            file,
            [
                JSON.stringify({ id: 1, gold: "1/2", pred: "0.5", equal: false }),
                "{not json",
                JSON.stringify({ id: 3, gold: 3 }),
                "",
                JSON.stringify({ id: 5, gold: ["3", "x=3"], pred: "x = 3" }),
                JSON.stringify({ id: 6, gold: "2", pred: "3" }),
            ].join("\n") + "\n",
        );
        const r = rstar(["grade", "--file", file]);
        expect(r.status).toBe(1);
        const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
        expect(lines).toHaveLength(5);
        expect(lines[0]).toEqual({ id: 1, gold: "1/2", pred: "0.5", equal: true });
        expect(lines[1]?.["error"]).toMatch(/cases\.jsonl:2: not valid JSON/);
        expect(lines[2]).toMatchObject({ id: 3, error: expect.stringMatching(/cases\.jsonl:3: field "gold"/) as unknown });
        expect(lines[3]).toMatchObject({ id: 5, equal: true });
        expect(lines[4]).toMatchObject({ id: 6, equal: false });

        const out = join(dir, "out.jsonl");
        expect(rstar(["grade", "--file", file, "--out", out]).stdout).toBe("");
        expect(readFileSync(out, "utf8").trim().split("\n")).toHaveLength(5);
    });

    it("exits 2 for a missing file or bad usage, and has --help", () => {
        expect(rstar(["grade", "--file", "/nonexistent/cases.jsonl"]).status).toBe(2);
        expect(rstar(["grade", "--gold", "1"]).status).toBe(2);
        const help = rstar(["grade", "--help"]);
        expect(help.status).toBe(0);
        expect(help.stdout).toMatch(/--extract/);
    });
});
