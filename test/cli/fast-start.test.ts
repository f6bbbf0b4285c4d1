import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command, Help } from "commander";
import { describe, expect, it } from "vitest";
import { commandModules } from "../../src/cli/command-list.js";

// A module-resolution hook (node --import) that appends every module URL the CLI resolves to a file, so the test sees
// exactly what `rstar …` imported, packages and our own dist/ files alike (ESM imports, dynamic ones included).
const hook = `import { appendFileSync } from "node:fs";
export async function resolve(specifier, context, next) {
    const result = await next(specifier, context);
    appendFileSync(process.env.RSTAR_TRACE_FILE, result.url + "\\n");
    return result;
}`;
const register = `import { register } from "node:module"; register("data:text/javascript," + encodeURIComponent(${JSON.stringify(hook)}));`;

function importsOf(args: string[]): { code: number | null; stdout: string; urls: string[]; packages: Set<string> } {
    const trace = join(mkdtempSync(join(tmpdir(), "rstar-trace-")), "urls.txt");
    const child = spawnSync(process.execPath, ["--import", `data:text/javascript,${encodeURIComponent(register)}`, "bin/rstar.js", ...args], {
        encoding: "utf8",
        timeout: 60_000,
        env: { ...process.env, RSTAR_TRACE_FILE: trace },
    });
    const urls = readFileSync(trace, "utf8").trim().split("\n");
    const packages = new Set(urls.flatMap((url) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1] ?? []));
    return { code: child.status, stdout: child.stdout, urls, packages };
}

describe("fast start: the CLI imports what a command needs only", () => {
    it("rstar --help imports commander and nothing heavy (no llama.cpp, fastify, SQLite, zod, command modules)", () => {
        const run = importsOf(["--help"]);
        expect(run.code).toBe(0);
        expect(run.stdout).toContain("search [options]");
        // The trace works: it saw the CLI entry and commander.
        expect(run.urls.some((url) => url.endsWith("/dist/cli/main.js"))).toBe(true);
        expect([...run.packages]).toEqual(["commander"]);
        expect(run.urls.filter((url) => url.includes("/dist/cli/commands/"))).toEqual([]);
    });

    it("a command imports its own module only, and grade loads no llama.cpp, fastify or SQLite", () => {
        const run = importsOf(["grade", "--help"]);
        expect(run.code).toBe(0);
        expect(run.urls.filter((url) => url.includes("/dist/cli/commands/")).map((url) => url.replace(/.*\/dist\/cli\/commands\//, ""))).toEqual(["grade.js"]);
        for (const heavy of ["node-llama-cpp", "fastify", "better-sqlite3"]) expect(run.packages.has(heavy), heavy).toBe(false);
    });

    it("search --help does not load llama.cpp or fastify", () => {
        const run = importsOf(["help", "search"]);
        expect(run.code).toBe(0);
        expect(run.stdout).toContain("--concurrency");
        for (const heavy of ["node-llama-cpp", "fastify"]) expect(run.packages.has(heavy), heavy).toBe(false);
    });

    it("every listed command's name, description and help term equal what its module registers", async () => {
        for (const entry of commandModules) {
            if (typeof entry === "string") continue;
            const program = new Command("rstar");
            const module = (await import(join("../../src/cli", entry.module.replace(/\.js$/, ".ts")))) as { register: (program: Command) => void };
            module.register(program);
            const registered = program.commands.find((command) => command.name() === entry.name);
            expect(registered, entry.name).toBeDefined();
            expect(registered?.description(), entry.name).toBe(entry.description);
            expect(new Help().subcommandTerm(registered as Command), entry.name).toBe(entry.term);
        }
    });
});
