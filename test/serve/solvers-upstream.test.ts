import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI, { APIError } from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGrader, type Grader } from "../../src/grading/index.js";
import { LlamaCppBackend, acquireModel, type LlmBackend } from "../../src/llm/index.js";
import { LlamaCppPpm } from "../../src/reward/index.js";
import { treeRecord } from "../../src/runs/index.js";
import { createSandbox, type Sandbox } from "../../src/sandbox/index.js";
import { defaultSolverModels, startRstarServer } from "../../src/serve/index.js";
import { solveProblem, type SearchServices } from "../../src/search/index.js";
import { generateDataset } from "../../src/synth/index.js";
import { collect, firstLine, spawnRstar, type CliResult } from "../support/cli.js";
import { runOutputs } from "../support/run-files.js";
import { SHIPPED_POLICY, SHIPPED_PPM_DIR } from "../support/shipped-models.js";

/**
 * Solver models over an upstream policy server (`rstar serve --solvers --policy-url URL --model NAME --ppm DIR`), the
 * per-request time limit of solver requests, and `rstar search --policy-url` at `rstar serve` against the same search
 * in process. The upstream is a second `rstar serve` on the shipped policy (the same 1,024-token context as the
 * embedded default), so every comparison is against the same weights run in this process.
 */
const dir = mkdtempSync(join(tmpdir(), "rstar-serve-upstream-"));
const problems = generateDataset({ seed: 1, train: 0, test: 8, ood: 0 }).test;

let held: { release: () => Promise<void> } | undefined;
let policy: LlamaCppBackend;
let ppm: LlamaCppPpm;
let sandbox: Sandbox;
let grader: Grader;
let services: SearchServices;
let upstream: ReturnType<typeof spawnRstar>;
let upstreamDone: Promise<CliResult>;
let upstreamURL: string;
beforeAll(async () => {
    upstream = spawnRstar(["serve", "--policy", SHIPPED_POLICY, "--threads", "1", "--context-size", "1024", "--port", "0"]);
    upstreamDone = collect(upstream);
    const listening = firstLine(upstream);
    held = await acquireModel(SHIPPED_POLICY);
    policy = new LlamaCppBackend({ modelPath: SHIPPED_POLICY, threads: 1, contextSize: 1024 });
    ppm = await LlamaCppPpm.fromDirectory(SHIPPED_PPM_DIR, { threads: 1, contextSize: 1024 });
    sandbox = await createSandbox({ workers: 1 });
    grader = createGrader();
    services = { policy, executor: sandbox, judge: grader, rewardModel: ppm };
    upstreamURL = await listening;
}, 60_000);
afterAll(async () => {
    upstream?.kill("SIGTERM");
    await upstreamDone;
    await sandbox?.dispose();
    await grader?.dispose();
    await ppm?.dispose();
    await policy?.dispose();
    await held?.release();
});

interface Audit {
    answer: string | null;
    value: number | null;
    votes: Record<string, number>;
    tag: string | null;
    counters: { rollouts: number; codeRuns: number; requests: number; nodes: number };
    run: { dir: string; position: number } | null;
}
const audit = (reply: unknown) => (reply as { rstar: Audit }).rstar;

/** Counts the policy calls a search makes (to see that a stopped search makes no more). */
function counting(backend: LlmBackend): { backend: LlmBackend; calls: () => number } {
    let calls = 0;
    const wrapped = Object.create(backend) as LlmBackend;
    wrapped.generate = (request) => {
        calls += 1;
        return backend.generate(request);
    };
    return { backend: wrapped, calls: () => calls };
}

describe("rstar serve --solvers over an upstream policy server (--policy-url)", () => {
    it("a solver chat completion through the openai client equals solveProblem in process with the same settings and seed", async () => {
        const storeDir = join(dir, "solver-store");
        const child = spawnRstar(
            ["serve", "--solvers", "--policy-url", upstreamURL, "--model", "model", "--ppm", SHIPPED_PPM_DIR, "--threads", "1", "--sandbox-workers", "1", "--store", storeDir, "--port", "0"],
        );
        const done = collect(child);
        try {
            const baseURL = await firstLine(child);
            const client = new OpenAI({ baseURL, apiKey: "unused", maxRetries: 0 });
            // the upstream's model is served as the raw policy, beside the solver models (MCTS: --ppm was given)
            expect((await client.models.list()).data.map((model) => model.id)).toEqual(["model", "rstar-greedy", "rstar-bon-8", "rstar-mcts"]);
            const problem = problems[3]!;
            const reply = await client.chat.completions.create({
                model: "rstar-mcts",
                messages: [{ role: "user", content: problem.question }],
                seed: 7,
                rstar: { rollouts: 2, candidates: 2 },
            } as never);
            const settings = { ...defaultSolverModels(true)["rstar-mcts"]!, rollouts: 2, candidates: 2, seed: 7 };
            const direct = await solveProblem({ index: 0, question: problem.question, gold: null }, settings, services);
            const remote = audit(reply);
            expect(remote.counters.rollouts).toBe(2);
            expect(remote.counters.nodes).toBeGreaterThan(2);
            expect(remote.answer).toBe(direct.selected?.answer ?? null);
            expect(remote.value).toBe(direct.selected?.value ?? null);
            expect(remote.tag).toBe(direct.selected?.tag ?? null);
            expect(remote.counters.requests).toBe(direct.counters.requests);
            expect(remote.counters.nodes).toBe(direct.counters.nodes);
            // the whole tree kept by the server equals the one searched here
            const trees = readFileSync(join(storeDir, "trees.jsonl"), "utf8").trim().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
            const expected = treeRecord({ position: 0, line: 0, question: problem.question, answer: null, record: { question: problem.question, request_id: (reply as { id: string }).id, model: "rstar-mcts" } }, direct);
            expect(trees[remote.run?.position ?? -1]).toEqual(JSON.parse(JSON.stringify(expected)));
        } finally {
            child.kill("SIGTERM");
        }
        const exit = await done;
        expect({ code: exit.code, signal: exit.signal, stderr: exit.stderr }).toMatchObject({ code: 0 });
    }, 180_000);

    it("--policy-url needs --solvers and --model; --policy and --policy-url are exclusive (exit 2); --help says so", async () => {
        const help = await collect(spawnRstar(["serve", "--help"]));
        expect(help.code).toBe(0);
        for (const flag of ["--policy-url <url...>", "--model <name>", "--reward-url <url...>", "--value-head <file>", "--solver-timeout-ms <ms>"]) expect(help.stdout).toContain(flag);
        const noSolvers = await collect(spawnRstar(["serve", "--policy-url", upstreamURL, "--model", "model", "--port", "0"]));
        expect(noSolvers.code).toBe(2);
        expect(noSolvers.stderr).toContain("--solvers");
        const both = await collect(spawnRstar(["serve", "--policy", SHIPPED_POLICY, "--policy-url", upstreamURL, "--solvers", "--port", "0"]));
        expect(both.code).toBe(2);
        const noModel = await collect(spawnRstar(["serve", "--solvers", "--policy-url", upstreamURL, "--port", "0"]));
        expect(noModel.code).toBe(2);
        expect(noModel.stderr).toContain("--model");
    }, 60_000);
});

describe("solver requests: per-request time limit", () => {
    it("a search past the limit stops and the openai client gets one 408 error, not retried", async () => {
        const counted = counting(policy);
        const server = await startRstarServer({ policy, solvers: { services: { ...services, policy: counted.backend }, timeoutMs: 400 } });
        try {
            // the client's default retries (2) are on: the server's x-should-retry: false must stop them
            const client = new OpenAI({ baseURL: server.baseURL, apiKey: "unused" });
            const problem = problems[3]!;
            const error = await client.chat.completions
                .create({ model: "rstar-mcts", messages: [{ role: "user", content: problem.question }], rstar: { rollouts: 64, candidates: 8 } } as never)
                .then(
                    () => undefined,
                    (caught: unknown) => caught,
                );
            expect(error).toBeInstanceOf(APIError);
            expect((error as APIError).status).toBe(408);
            expect((error as APIError).type).toBe("timeout_error");
            expect((error as APIError).message).toContain("400 ms");
            // one request reached the server (no retries), its search was stopped before the answer was sent
            expect(server.stats()).toMatchObject({ inFlight: 0, completed: 1, solvers: { inFlight: 0, timedOut: 1 } });
            const calls = counted.calls();
            expect(calls).toBeGreaterThan(0);
            await new Promise((resolve) => setTimeout(resolve, 500));
            expect(counted.calls()).toBe(calls);

            // streamed: the time limit ends the stream with the same error event
            const stream = await client.chat.completions.create({
                model: "rstar-mcts",
                messages: [{ role: "user", content: problem.question }],
                stream: true,
                rstar: { rollouts: 64, candidates: 8 },
            } as never);
            const streamed = await (async () => {
                for await (const _chunk of stream as unknown as AsyncIterable<unknown>) {
                    // progress chunks until the limit
                }
            })().then(
                () => undefined,
                (caught: unknown) => caught,
            );
            expect(streamed).toBeInstanceOf(APIError);
            expect((streamed as APIError).message).toContain("400 ms");
            expect(server.stats().solvers).toEqual({ inFlight: 0, timedOut: 2 });
        } finally {
            await server.close();
        }
    }, 120_000);
});

describe("rstar search --policy-url at rstar serve", () => {
    it("gives the trees and results of the same search in process (shipped policy and PPM)", async () => {
        const run = async (name: string, extra: string[]) => {
            const out = join(dir, name);
            const args = ["search", "--dataset", "models/heldout/test.jsonl", "--limit", "2", "--preset", "sample", "--rollouts", "2", "--candidates", "3", "--threads", "1", "--concurrency", "2"];
            const result = await collect(spawnRstar([...args, ...extra, "--out", out, "--quiet", "--json"]));
            expect(result.stderr).toBe("");
            expect(result.code).toBe(0);
            return runOutputs(out);
        };
        const inProcess = await run("in-process", []);
        const viaServer = await run("via-serve", ["--policy-url", upstreamURL, "--model", "model"]);
        expect(inProcess.results).toHaveLength(2);
        expect(JSON.stringify(inProcess.trees).length).toBeGreaterThan(1000);
        expect(viaServer.results).toEqual(inProcess.results);
        expect(viaServer.trees).toEqual(inProcess.trees);
    }, 300_000);
});
