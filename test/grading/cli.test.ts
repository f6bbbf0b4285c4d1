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
        expect(json).toEqual({ equal: true, method: "fast", extracted: "3" });
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

    it("takes the final answer out of raw model text by default; --no-extract compares as given", () => {
        const text = "First try: \\boxed{4}.\nChecking again, $2+3 = \\boxed{5}$, so the answer is 5.";
        expect(rstar(["grade", "--gold", "5", "--pred", text])).toMatchObject({ status: 0, stdout: "true\n" });
        expect(JSON.parse(rstar(["grade", "--gold", "5", "--pred", text, "--json"]).stdout)).toEqual({ equal: true, method: "fast", extracted: "5" });
        expect(rstar(["grade", "--gold", "5", "--pred", text, "--extract"]).stdout).toBe("true\n");
        expect(rstar(["grade", "--gold", "5", "--pred", text, "--no-extract"])).toMatchObject({ status: 0, stdout: "false\n" });
        expect(rstar(["grade", "--gold", "\\frac{1}{2}", "--pred", "The final answer is $\\frac{2}{4}$. I hope it is correct."]).stdout).toBe("true\n");
        expect(rstar(["grade", "--gold", "72", "--pred", "She sold 48 + 24 = 72 clips.\n#### 72"]).stdout).toBe("true\n");
        expect(rstar(["grade", "--gold", "(2,5]", "--pred", "(2,5]"]).stdout).toBe("true\n");

        const dir = mkdtempSync(join(tmpdir(), "rstar-grade-"));
        const file = join(dir, "raw.jsonl");
        writeFileSync(
            file,
            [
                JSON.stringify({ id: 1, gold: "\\{1,2,3\\}", pred: "The roots are $\\boxed{\\{3,2,1\\}}$." }),
                JSON.stringify({ id: 2, gold: "25\\%", pred: "**Answer:** 0.25" }),
                JSON.stringify({ id: 3, gold: "x \\le 2", pred: "We need \\fbox{x < 2}." }),
            ].join("\n") + "\n",
        );
        const graded = (args: string[]): unknown[] => rstar(["grade", "--file", file, ...args]).stdout.trim().split("\n").map((l) => (JSON.parse(l) as { equal: unknown }).equal);
        expect(graded([])).toEqual([true, true, false]);
        expect(graded(["--no-extract"])).toEqual([false, false, false]);
    });

    it("refuses an empty gold answer: exit 2 for --gold, an error record and exit 1 in --file", () => {
        const single = rstar(["grade", "--gold", "", "--pred", ""]);
        expect(single.status).toBe(2);
        expect(single.stdout).toBe("");
        expect(single.stderr).toMatch(/--gold.*gold answer is empty/);
        expect(rstar(["grade", "--gold", "  ", "--pred", "3"]).status).toBe(2);

        const dir = mkdtempSync(join(tmpdir(), "rstar-grade-"));
        const file = join(dir, "empty-gold.jsonl");
        writeFileSync(
            file,
            [
                JSON.stringify({ id: 1, gold: "", pred: "" }),
                JSON.stringify({ id: 2, gold: "3", pred: "3" }),
                JSON.stringify({ id: 3, gold: ["3", " "], pred: "3" }),
            ].join("\n") + "\n",
        );
        const r = rstar(["grade", "--file", file]);
        expect(r.status).toBe(1);
        const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
        expect(lines[0]).toEqual({ id: 1, gold: "", pred: "", error: expect.stringMatching(/empty-gold\.jsonl:1: field "gold" is empty/) as unknown });
        expect(lines[1]).toEqual({ id: 2, gold: "3", pred: "3", equal: true });
        expect(lines[2]).toMatchObject({ id: 3, error: expect.stringMatching(/empty-gold\.jsonl:3: field "gold" is empty/) as unknown });
    });

    it("exits 2 for a missing file or bad usage, and has --help", () => {
        expect(rstar(["grade", "--file", "/nonexistent/cases.jsonl"]).status).toBe(2);
        expect(rstar(["grade", "--gold", "1"]).status).toBe(2);
        const help = rstar(["grade", "--help"]);
        expect(help.status).toBe(0);
        expect(help.stdout).toMatch(/--extract/);
        expect(help.stdout).toMatch(/--no-extract/);
    });
});
