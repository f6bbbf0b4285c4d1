// The test tiers of vitest.config.ts: `npm run test:unit` selects the `unit` project, which must exist and hold
// exactly the pure tests next to the code; `integration` holds test/**; together they are every test file.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..", "..");
const vitest = join(root, "node_modules", "vitest", "vitest.mjs");

function testFiles(dir: string): string[] {
    return readdirSync(join(root, dir), { recursive: true, encoding: "utf8" })
        .filter((f) => f.endsWith(".test.ts") && !f.split("/").includes("node_modules"))
        .map((f) => relative(root, join(root, dir, f)))
        .sort();
}

function listed(args: string[]): { status: number | null; files: Map<string, string[]>; output: string } {
    const r = spawnSync(process.execPath, [vitest, "list", "--filesOnly", ...args], { cwd: root, encoding: "utf8", timeout: 120_000 });
    const files = new Map<string, string[]>();
    for (const line of r.stdout.split("\n")) {
        const m = /^\[(\S+)\] (\S+)$/.exec(line.trim());
        if (m) files.set(m[1] as string, [...(files.get(m[1] as string) ?? []), m[2] as string].sort());
    }
    return { status: r.status, files, output: r.stdout + r.stderr };
}

describe("test tiers", () => {
    it("npm run test:unit names the unit project", () => {
        const scripts = (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
        expect(scripts["test:unit"]).toBe("vitest run --project unit");
    });

    it("the unit project is src/**/*.test.ts; the two projects together are every test file", () => {
        const unit = listed(["--project", "unit"]);
        expect(unit.status, unit.output).toBe(0);
        expect([...unit.files.keys()]).toEqual(["unit"]);
        expect(unit.files.get("unit")).toEqual(testFiles("src"));

        const all = listed([]);
        expect(all.status, all.output).toBe(0);
        expect(all.files.get("unit")).toEqual(testFiles("src"));
        expect(all.files.get("integration")).toEqual(testFiles("test"));
    });
});
