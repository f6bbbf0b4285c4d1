/** Bad input gets a clear error before any work; a first run with the shipped models works; Ctrl-C says how to resume. */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { collect, runRstar, spawnRstar, type CliResult } from "../support/cli.js";
import { startSimulatedPolicyServer, type SimulatedPolicyServer } from "../support/simulated-policy.js";

let server: SimulatedPolicyServer;
/** A server that records every request it gets, to prove a command never contacted it. */
let witness: Server;
let witnessHits = 0;
let witnessURL = "";
const dir = mkdtempSync(join(tmpdir(), "rstar-cli-input-"));

beforeAll(async () => {
    server = await startSimulatedPolicyServer({ stepCorrectProbability: 0.8, codeErrorProbability: 0.05 });
    witness = createServer((request, response) => {
        witnessHits += 1;
        response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ object: "list", data: [{ id: "m", object: "model" }] }));
    });
    await new Promise<void>((resolve) => witness.listen(0, "127.0.0.1", resolve));
    witnessURL = `http://127.0.0.1:${(witness.address() as AddressInfo).port}/v1`;
});
afterAll(async () => {
    await server?.close();
    await new Promise((resolve) => witness?.close(resolve));
});

function start(args: string[]): { child: ReturnType<typeof spawnRstar>; done: Promise<CliResult> } {
    const child = spawnRstar(args);
    return { child, done: collect(child) };
}

const rstar = (args: string[]) => runRstar(args);

function dataset(name: string, records: unknown[]): string {
    const path = join(dir, name);
    writeFileSync(path, records.map((record) => JSON.stringify(record)).join("\n") + (records.length > 0 ? "\n" : ""));
    return path;
}

const remote = () => ["--policy-url", server.baseURL, "--model", server.model];

describe("search settings are range-checked from flags and --config alike", () => {
    const one = () => dataset("one.jsonl", [{ question: "Compute 2 + 3.", answer: "5" }]);

    it.each([
        [["--c-puct", "-5"], "--c-puct must be >= 0"],
        [["--temperature", "-0.5"], "--temperature must be >= 0"],
        [["--top-p", "1.5"], "--top-p must be in (0, 1]"],
        [["--top-p", "0"], "--top-p must be in (0, 1]"],
        [["--virtual-loss", "-1"], "--virtual-loss must be >= 0"],
        [["--rollouts", "-3"], "--rollouts must be an integer >= 1"],
        [["--max-depth", "0"], "--max-depth must be an integer >= 1"],
    ])("%j is refused with exit 2 naming the flag, before contacting the server", async (flags, message) => {
        const before = witnessHits;
        const ran = await rstar(["search", "--dataset", one(), "--out", join(dir, `bad-${flags.join("")}`), "--policy-url", witnessURL, "--model", "m", ...flags]);
        expect(ran.code).toBe(2);
        expect(ran.stderr).toContain(message);
        expect(witnessHits).toBe(before);
    });

    it("a config file out of range names the file and field; flags override and are checked too", async () => {
        const config = join(dir, "bad-settings.json");
        writeFileSync(config, JSON.stringify({ cPuct: -5 }));
        const ran = await rstar(["search", "--dataset", one(), "--out", join(dir, "bad-config"), "--policy-url", witnessURL, "--model", "m", "--config", config]);
        expect(ran.code).toBe(2);
        expect(ran.stderr).toContain(`${config}, field "cPuct": must be >= 0`);
        writeFileSync(config, JSON.stringify({ topP: 2 }));
        const topP = await rstar(["solve", "Compute 1 + 1.", "--policy-url", witnessURL, "--model", "m", "--config", config]);
        expect(topP.code).toBe(2);
        expect(topP.stderr).toContain(`${config}, field "topP": must be in (0, 1]`);
        writeFileSync(config, JSON.stringify({ positiveReward: -1, negativeReward: 1 }));
        const rewards = await rstar(["search", "--dataset", one(), "--out", join(dir, "bad-rewards"), "--policy-url", witnessURL, "--model", "m", "--config", config]);
        expect(rewards.code).toBe(2);
        expect(rewards.stderr).toContain("positiveReward must be greater than negativeReward");
    });
});

describe("datasets are checked before any server is contacted", () => {
    it("an empty dataset exits 2 with a message", async () => {
        const before = witnessHits;
        const empty = dataset("empty.jsonl", []);
        const ran = await rstar(["search", "--dataset", empty, "--out", join(dir, "empty-run"), "--policy-url", witnessURL, "--model", "m"]);
        expect(ran.code).toBe(2);
        expect(ran.stderr).toContain(`${empty}: the dataset holds no records`);
        expect(witnessHits).toBe(before);
    });

    it("a record without a gold answer is refused under ground-truth reward (bootstrap, sample), naming file, line and field", async () => {
        const hf = dataset("hf.jsonl", [
            { problem: "Compute 2 + 3.", gt: "5" },
            { problem: "Compute 4 * 2.", gt: "8" },
        ]);
        const mixed = dataset("mixed.jsonl", [{ question: "Compute 2 + 3.", answer: "5" }, { question: "Compute 4 * 2.", gt: "8" }]);
        const before = witnessHits;
        for (const preset of ["bootstrap", "sample"]) {
            const ran = await rstar(["search", "--dataset", mixed, "--out", join(dir, `nogold-${preset}`), "--policy-url", witnessURL, "--model", "m", "--preset", preset]);
            expect(ran.code).toBe(2);
            expect(ran.stderr).toContain(`${mixed}:2, field "answer": is missing`);
            expect(ran.stderr).toContain("--answer-field");
        }
        expect(witnessHits).toBe(before);
        const named = await rstar(["search", "--dataset", hf, "--question-field", "problem", "--answer-field", "gt", "--out", join(dir, "hf-run"), ...remote(), "--prompt", "sft", "--rollouts", "2", "--candidates", "2", "--json", "--quiet"]);
        expect(named.stderr).toBe("");
        expect(named.code).toBe(0);
        expect(JSON.parse(named.stdout)).toMatchObject({ total: 2, finished: 2, failed: 0 });
        const results = readFileSync(join(dir, "hf-run", "results.jsonl"), "utf8").trim().split("\n").map((line) => JSON.parse(line) as { question: string; answer: string });
        expect(results.map((result) => [result.question, result.answer]).sort()).toEqual([
            ["Compute 2 + 3.", "5"],
            ["Compute 4 * 2.", "8"],
        ]);
    }, 60_000);
});

describe("policy URLs", () => {
    it("a --policy-url without /v1 gets a hint to add it (exit 2)", async () => {
        const base = server.baseURL.replace(/\/v1\/?$/, "");
        const ran = await rstar(["solve", "Compute 1 + 1.", "--policy-url", base, "--model", server.model]);
        expect(ran.code).toBe(2);
        expect(ran.stderr).toContain(`try --policy-url ${base}/v1`);
        expect(ran.stderr).not.toContain("    at ");
    });
});

describe("first steps with the shipped models (no --policy-url)", () => {
    const heldOut = (split = "test") =>
        readFileSync(`models/heldout/${split}.jsonl`, "utf8")
            .trim()
            .split("\n")
            .map((line) => JSON.parse(line) as { question: string; answer: string })
            .map(({ question, answer }) => ({ question, answer }));

    it("search with no preset uses the SFT `sample` preset (the few-shot bootstrap prompt overflows the 1,024-token context) and counts failure reasons", async () => {
        const problems = heldOut().slice(0, 3);
        const path = dataset("tiny.jsonl", problems);
        const out = join(dir, "tiny-default");
        const ran = await rstar(["search", "--dataset", path, "--out", out, "--limit", "1", "--rollouts", "2", "--candidates", "2", "--threads", "1", "--concurrency", "1", "--quiet"]);
        expect(ran.stderr).toBe("");
        expect(ran.code).toBe(0);
        const config = JSON.parse(readFileSync(join(out, "config.json"), "utf8")) as { preset: string; settings: { prompt: string } };
        expect(config).toMatchObject({ preset: "sample", settings: { prompt: "sft" } });

        // bootstrap on the tiny model: a long question's few-shot prompt does not fit its context; the summary says why
        const longest = heldOut("ood").sort((a, b) => b.question.length - a.question.length)[0];
        const long = dataset("long.jsonl", [longest]);
        const overflow = await rstar(["search", "--dataset", long, "--out", join(dir, "tiny-bootstrap"), "--preset", "bootstrap", "--rollouts", "1", "--candidates", "1", "--threads", "1", "--concurrency", "1", "--quiet"]);
        expect(overflow.code).toBe(1);
        expect(overflow.stdout).toMatch(/failed +1 × INVALID_ARGUMENT: the prompt is \d+ tokens/);
    }, 240_000);

    it("solve: the README example answers; a question outside the domain shows the best attempt with its errors", async () => {
        const readme = readFileSync("README.md", "utf8");
        const example = /npx rstar solve "([^"]+)"/.exec(readme)?.[1];
        expect(example).toBeDefined();
        const ok = await rstar(["solve", (example as string).replace(/\\\$/g, "$"), "--threads", "1"]);
        expect(ok.code).toBe(0);
        expect(ok.stdout).toMatch(/<output>\d+<end_of_output>/);
        expect(ok.stdout).toMatch(/answer: \d+/);

        const outside = await rstar(["solve", "Find the integral of x squared from 0 to 3.", "--threads", "1"]);
        expect(outside.code).toBe(1);
        expect(outside.stdout).toMatch(/no answer found\. Best attempt \([1-9]\d* steps?, \d+ with code errors; ended: [a-z-]+/);
        expect(outside.stdout).toContain("<output>");
        expect(outside.stdout).toContain("answer: (none)");
        const json = await rstar(["solve", "Find the integral of x squared from 0 to 3.", "--threads", "1", "--json"]);
        const parsed = JSON.parse(json.stdout) as { answer: null; bestAttempt: { steps: number; trajectory: string; endedBy: string } };
        expect(parsed.answer).toBeNull();
        expect(parsed.bestAttempt.steps).toBeGreaterThan(0);
        expect(parsed.bestAttempt.trajectory).toContain("<code>");
    }, 180_000);

    it("Ctrl-C stops the search with exit 130, says what was kept and how to resume; --resume needs only --out", async () => {
        const problems = heldOut().slice(0, 6);
        const path = dataset("interrupt.jsonl", problems);
        const out = join(dir, "interrupted run");
        const run = start(["search", "--dataset", path, "--out", out, "--rollouts", "2", "--candidates", "2", "--threads", "1", "--concurrency", "1", "--quiet"]);
        const results = join(out, "results.jsonl");
        const deadline = Date.now() + 150_000;
        while (!(existsSync(results) && readFileSync(results, "utf8").trim() !== "") && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
        run.child.kill("SIGINT");
        const ran = await run.done;
        expect(ran.signal).toBeNull();
        expect(ran.code).toBe(130);
        expect(ran.stderr).toMatch(/interrupted: [1-5] of 6 problems are finished and kept in /);
        expect(ran.stderr).toContain(`rstar search --out '${out}' --resume`);

        const differing = await rstar(["search", "--out", out, "--resume", "--rollouts", "3", "--quiet"]);
        expect(differing.code).toBe(2);
        expect(differing.stderr).toContain("rollouts (2 vs 3)");
        const resumed = await rstar(["search", "--out", out, "--resume", "--json", "--quiet", "--threads", "1"]);
        expect(resumed.stderr).toBe("");
        expect(resumed.code).toBe(0);
        const summary = JSON.parse(resumed.stdout) as { total: number; finished: number; resumed: number };
        expect(summary.total).toBe(6);
        expect(summary.finished).toBe(6);
        expect(summary.resumed).toBeGreaterThan(0);
    }, 400_000);
});
