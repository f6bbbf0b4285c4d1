import { spawn, type ChildProcessByStdio } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { RunStore } from "../../src/runs/index.js";
import { REGISTRY_KEY } from "../../src/queue/index.js";
import { collect, runRstar, type CliResult } from "../support/cli.js";
import { startRedisServer, type RedisServer } from "../support/redis-server.js";
import { runOutputs } from "../support/run-files.js";
import { startSimulatedPolicyServer, type SimulatedPolicyServer } from "../support/simulated-policy.js";

const questions = ["Compute 3 + 4 * 5.", "Compute (2 + 3) * 4.", "Compute 7 * 8 - 9.", "Compute 12 - 4 + 6 * 2.", "Compute 9 * (3 + 2) - 1.", "Compute 5 + 6."];
const answers = [23, 20, 47, 20, 44, 11];
const failing = "Compute 2 * 2 + 2.";

const root = mkdtempSync(join(tmpdir(), "rstar-queue-"));
let redis: RedisServer;
let server: SimulatedPolicyServer;
let dataset: string;
let reference: ReturnType<typeof runOutputs>;

type Child = ChildProcessByStdio<null, Readable, Readable>;

/** A spawned `rstar` whose stderr is kept as it arrives. */
interface Running {
    child: Child;
    stderr: () => string;
    done: Promise<CliResult>;
}

/** Every process a test started: a test that fails before stopping its workers must not leave them serving the next test's runs. */
const spawned = new Set<Child>();

function start(args: string[], env: NodeJS.ProcessEnv = {}): Running {
    const child = spawn(process.execPath, ["bin/rstar.js", ...args], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
    spawned.add(child);
    child.on("close", () => spawned.delete(child));
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const done = collect(child);
    return { child, stderr: () => stderr, done: done.then((result) => ({ ...result, stderr })) };
}

const searchSettings = ["--preset", "bootstrap", "--prompt", "sft", "--rollouts", "4", "--candidates", "3", "--temperature", "1", "--error-threshold", "2", "--seed", "11"];

function coordinator(out: string, extra: string[] = [], file = dataset): Running {
    return start(["search", "--dataset", file, "--out", out, "--queue", redis.url, "--model", server.model, ...searchSettings, "--retry-delay-ms", "200", "--json", ...extra]);
}

/** A worker with short locks, so a killed worker's problems come back within seconds. */
function worker(policyUrl: string = server.baseURL, extra: string[] = [], env: NodeJS.ProcessEnv = {}): Running {
    return start(
        ["worker", "--queue", redis.url, "--policy-url", policyUrl, "--concurrency", "2", "--sandbox-workers", "1", "--lock-duration-ms", "5000", "--stalled-interval-ms", "1000", "--max-stalled", "3", "--pause-ms", "500", ...extra],
        env,
    );
}

async function stopWorker(running: Running): Promise<CliResult> {
    if (running.child.exitCode === null) running.child.kill("SIGTERM");
    return running.done;
}

async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
    }
}

function resultLines(out: string): Record<string, unknown>[] {
    const file = join(out, "results.jsonl");
    if (!existsSync(file)) return [];
    return readFileSync(file, "utf8").trim().split("\n").filter((line) => line !== "").map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** Every result once, each problem's result and tree equal to the single-process run's. */
function expectEqualToReference(out: string): void {
    const lines = resultLines(out);
    expect(lines.map((line) => line["index"]).sort()).toEqual([0, 1, 2, 3, 4, 5]);
    const store = new RunStore(join(out, "store.sqlite"));
    expect(store.count()).toBe(6);
    store.close();
    expect(runOutputs(out)).toEqual(reference);
}

/** The queue and registry left in Redis by finished runs: none. */
async function leftInRedis(): Promise<{ registry: Record<string, string>; keys: number }> {
    const client = new Redis({ host: "127.0.0.1", port: redis.port });
    try {
        return { registry: await client.hgetall(REGISTRY_KEY), keys: (await client.keys("bull:rstar-run-*")).length };
    } finally {
        client.disconnect();
    }
}

beforeAll(async () => {
    redis = await startRedisServer();
    server = await startSimulatedPolicyServer({ stepCorrectProbability: 0.6, codeErrorProbability: 0.15, serviceTimeMs: 30, failQuestions: [failing] });
    dataset = join(root, "arith.jsonl");
    writeFileSync(dataset, questions.map((question, index) => JSON.stringify({ id: `q${index}`, question, answer: String(answers[index]), source: "test" })).join("\n") + "\n");
    const out = join(root, "single");
    const single = await runRstar(["search", "--dataset", dataset, "--out", out, "--policy-url", server.baseURL, "--model", server.model, ...searchSettings, "--concurrency", "2", "--sandbox-workers", "1", "--quiet"]);
    expect(single.code, single.stderr).toBe(0);
    reference = runOutputs(out);
}, 120_000);

afterEach(() => {
    for (const child of spawned) child.kill("SIGKILL");
});

afterAll(async () => {
    await server?.close();
    await redis?.close();
});

describe("distributed runs: rstar search --queue and rstar worker on a real Redis", () => {
    it("two workers write the same trees and results as a single-process run, then Redis holds nothing of the run", async () => {
        const out = join(root, "two-workers");
        const workers = [worker(), worker()];
        const run = await coordinator(out).done;
        expect(run.code, run.stderr).toBe(0);
        expectEqualToReference(out);
        const summary = JSON.parse(run.stdout) as { finished: number; collected: number; runId: string };
        expect(summary).toMatchObject({ finished: 6, collected: 6 });
        // Both workers searched; SIGTERM stops each cleanly.
        for (const running of workers) {
            const stopped = await stopWorker(running);
            expect(stopped.code, stopped.stderr).toBe(0);
            expect(stopped.stderr).toContain(`serving run ${summary.runId}`);
            expect(stopped.stderr).toMatch(/stopped: \d+ problems searched/);
        }
        // Each problem searched at least once (twice only if a lock was lost under load), committed once.
        const searched = workers.map((running) => (running.stderr().match(/: done in /g) ?? []).length);
        expect(searched.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(6);
        expect(await leftInRedis()).toEqual({ registry: {}, keys: 0 });
    }, 180_000);

    it("kill -9 of a worker mid-problem: its stalled problems are retried on another worker and each result is committed once", async () => {
        const out = join(root, "worker-killed");
        const first = worker();
        const run = coordinator(out);
        await waitFor(() => (first.stderr().match(/: searching \(attempt 1/g) ?? []).length >= 2, 90_000, "the first worker to take two problems");
        first.child.kill("SIGKILL");
        await first.done;
        const inProgress = [...first.stderr().matchAll(/problem (\d+): searching/g)].map((match) => match[1]).filter((position) => !first.stderr().includes(`problem ${position}: done`));
        expect(inProgress.length).toBeGreaterThan(0);
        const second = worker();
        const result = await run.done;
        expect(result.code, result.stderr).toBe(0);
        expectEqualToReference(out);
        const stopped = await stopWorker(second);
        // The second worker took over the killed worker's problems after their locks expired.
        for (const position of inProgress) expect(stopped.stderr).toMatch(new RegExp(`problem ${position}: searching \\(attempt \\d+/3, after 1 stall\\(s\\)\\)`));
        expect(resultLines(out)).toHaveLength(6);
    }, 180_000);

    it("SIGTERM of a worker mid-problem: it hands its problems back at once and exits 0; another worker searches them", async () => {
        const out = join(root, "worker-stopped");
        const first = worker();
        const run = coordinator(out);
        await waitFor(() => (first.stderr().match(/: searching \(attempt 1/g) ?? []).length >= 2, 90_000, "the first worker to take two problems");
        first.child.kill("SIGTERM");
        const stopped = await first.done;
        expect(stopped.code, stopped.stderr).toBe(0);
        const released = [...stopped.stderr.matchAll(/problem (\d+): released back to the queue/g)].map((match) => match[1]);
        expect(released.length).toBeGreaterThan(0);
        const second = worker();
        const result = await run.done;
        expect(result.code, result.stderr).toBe(0);
        expectEqualToReference(out);
        const log = (await stopWorker(second)).stderr;
        // Released, not stalled: the problem starts again at once, its attempt not used up.
        for (const position of released) expect(log).toContain(`problem ${position}: searching (attempt 1/3)\n`);
    }, 180_000);

    it("kill -9 of the coordinator: the workers go on, and --resume collects what finished meanwhile with nothing lost or duplicated", async () => {
        const out = join(root, "coordinator-killed");
        const running = worker();
        const run = coordinator(out, ["--queue-window", "6"]);
        await waitFor(() => resultLines(out).length >= 2, 90_000, "two results");
        run.child.kill("SIGKILL");
        await run.done;
        // What a resume keeps is what the store committed: the kill can land between a commit and its results.jsonl line.
        const store = new RunStore(join(out, "store.sqlite"), { readOnly: true });
        const before = store.count();
        store.close();
        expect(before).toBeGreaterThanOrEqual(resultLines(out).length);
        expect(before).toBeLessThan(6);
        // The worker finishes the queued problems while no coordinator runs.
        const searched = () => (running.stderr().match(/: done in /g) ?? []).length;
        await waitFor(() => searched() >= 6, 120_000, "the worker to finish every queued problem");
        const resumed = await runRstar(["search", "--out", out, "--resume", "--json"]);
        expect(resumed.code, resumed.stderr).toBe(0);
        const summary = JSON.parse(resumed.stdout) as { resumed: number; finished: number; collected: number };
        expect(summary.resumed).toBe(before);
        expect(summary.finished).toBe(6);
        expect(summary.collected).toBe(6 - before);
        expectEqualToReference(out);
        expect((await stopWorker(running)).code).toBe(0);
        expect(await leftInRedis()).toEqual({ registry: {}, keys: 0 });
    }, 240_000);

    it("Redis restarted mid-run (AOF on): the run completes with every result once", async () => {
        const out = join(root, "redis-restarted");
        const running = worker();
        const run = coordinator(out);
        await waitFor(() => resultLines(out).length >= 1, 90_000, "a first result");
        await redis.stop();
        await new Promise((resolve) => setTimeout(resolve, 1500));
        await redis.start();
        const result = await run.done;
        expect(result.code, result.stderr).toBe(0);
        expectEqualToReference(out);
        expect((await stopWorker(running)).code).toBe(0);
    }, 240_000);

    it("Redis losing the queue (restarted without persistence: FLUSHALL): the coordinator registers the run again, enqueues the lost problems and completes", async () => {
        const out = join(root, "redis-flushed");
        const running = worker();
        const run = coordinator(out);
        await waitFor(() => resultLines(out).length >= 1, 90_000, "a first result");
        const client = new Redis({ host: "127.0.0.1", port: redis.port });
        await client.flushall();
        client.disconnect();
        const result = await run.done;
        expect(result.code, result.stderr).toBe(0);
        expect(result.stderr).toMatch(/queued problems are gone from Redis .*: enqueueing them again/);
        expectEqualToReference(out);
        expect((await stopWorker(running)).code).toBe(0);
    }, 240_000);

    it("a worker whose policy server is unreachable fails its jobs with a clear error, and they go to a healthy worker", async () => {
        const out = join(root, "unreachable");
        const dead = await startSimulatedPolicyServer();
        const deadUrl = dead.baseURL;
        await dead.close();
        const broken = worker(deadUrl, [], { RSTAR_LLM_MAX_RETRIES: "0" });
        const run = coordinator(out);
        await waitFor(() => /failed \(attempt 1\/3\)/.test(broken.stderr()), 60_000, "the broken worker to fail a job");
        const healthy = worker();
        const result = await run.done;
        expect(result.code, result.stderr).toBe(0);
        expectEqualToReference(out);
        const brokenLog = (await stopWorker(broken)).stderr;
        expect(brokenLog).toContain(`BACKEND_UNAVAILABLE: cannot reach ${deadUrl}`);
        expect(brokenLog).toContain("pausing for");
        expect(brokenLog).not.toContain(": done in ");
        expect((await stopWorker(healthy)).stderr).toContain(": done in ");
    }, 180_000);

    it("a problem that fails on every attempt is recorded as failed with its reason, and the others finish", async () => {
        const out = join(root, "always-failing");
        const file = join(root, "with-failing.jsonl");
        writeFileSync(file, [questions[0], failing, questions[5]].map((question) => JSON.stringify({ question, answer: "0" })).join("\n") + "\n");
        const running = worker(server.baseURL, [], { RSTAR_LLM_MAX_RETRIES: "0" });
        const result = await coordinator(out, ["--attempts", "2"], file).done;
        expect(result.code, result.stderr).toBe(1);
        const lines = resultLines(out).sort((a, b) => Number(a["index"]) - Number(b["index"]));
        expect(lines.map((line) => line["index"])).toEqual([0, 1, 2]);
        expect(lines[0]?.["error"]).toBeNull();
        expect(lines[2]?.["error"]).toBeNull();
        const error = lines[1]?.["error"] as { code: string; message: string; details: { lastErrorCode: string; attempts: number } };
        expect(error.code).toBe("QUEUE_JOB_FAILED");
        expect(error.details).toMatchObject({ lastErrorCode: "BACKEND_HTTP", attempts: 2 });
        expect(error.message).toContain("HTTP 500");
        expect(error.message).toContain("failed after 2 attempt(s)");
        const log = (await stopWorker(running)).stderr;
        expect(log).toContain("problem 1: failed (attempt 1/2)");
        expect(log).toContain("problem 1: failed (attempt 2/2)");
        expect(log).not.toContain("problem 1: failed (attempt 3");
    }, 180_000);

    it("--worker-models: workers without --policy-url search with the server the jobs name, as a single-process run; a checkpoint whose sha256 differs on a worker's host fails there with the file and both hashes", async () => {
        const modelsFile = join(root, "worker-models.json");
        writeFileSync(modelsFile, JSON.stringify({ format: "rstar-worker-models/1", policy: { endpoint: { kind: "url", url: server.baseURL, model: server.model }, checkpoint: null }, reward: null }));
        const out = join(root, "worker-models");
        const plain = () => start(["worker", "--queue", redis.url, "--concurrency", "2", "--sandbox-workers", "1", "--lock-duration-ms", "5000", "--stalled-interval-ms", "1000", "--pause-ms", "500"]);
        const workers = [plain(), plain()];
        // No --model: the coordinator takes the model the worker models serve.
        const run = await start(["search", "--dataset", dataset, "--out", out, "--queue", redis.url, "--worker-models", modelsFile, ...searchSettings, "--retry-delay-ms", "200", "--json"]).done;
        expect(run.code, run.stderr).toBe(0);
        expectEqualToReference(out);
        const config = JSON.parse(readFileSync(join(out, "config.json"), "utf8")) as { policy: { model: string }; workerModels: { policy: unknown; files: unknown[] } };
        expect(config.policy.model).toBe(server.model);
        expect(config.workerModels).toMatchObject({ policy: { endpoint: { kind: "url", url: server.baseURL }, checkpoint: null }, files: [] });
        for (const running of workers) expect((await stopWorker(running)).stderr).toContain(`serving the run's worker models: policy ${server.baseURL} (model ${server.model})`);

        // The run lists a PPM file's hash that this host's copy does not have.
        const ppm = join(root, "ppm");
        mkdirSync(ppm, { recursive: true });
        writeFileSync(join(ppm, "value_head.safetensors"), "this host's copy");
        const listed = "0".repeat(64);
        const badFile = join(root, "worker-models-bad.json");
        writeFileSync(badFile, JSON.stringify({ format: "rstar-worker-models/1", policy: { endpoint: { kind: "url", url: server.baseURL, model: server.model }, checkpoint: null }, reward: { endpoint: { kind: "embedded" }, ppm }, files: [{ path: join(ppm, "value_head.safetensors"), sha256: listed }] }));
        const broken = plain();
        const badOut = join(root, "worker-models-bad");
        const coordinatorRun = start(["search", "--dataset", dataset, "--out", badOut, "--queue", redis.url, "--worker-models", badFile, ...searchSettings, "--retry-delay-ms", "200", "--json"]);
        let log: string;
        try {
            await waitFor(() => /pausing for/.test(broken.stderr()), 60_000, "the worker to fail a job and pause");
        } finally {
            coordinatorRun.child.kill("SIGKILL");
            await coordinatorRun.done;
            log = (await stopWorker(broken)).stderr;
            // The run can never finish here (no host has the listed file): it leaves Redis, so later tests' workers do not take its jobs.
            const { runId } = JSON.parse(readFileSync(join(badOut, "config.json"), "utf8")) as { runId: string };
            const client = new Redis({ host: "127.0.0.1", port: redis.port });
            await client.hdel(REGISTRY_KEY, runId);
            client.disconnect();
            const queue = new Queue(`rstar-run-${runId}`, { connection: { host: "127.0.0.1", port: redis.port } });
            await queue.obliterate({ force: true });
            await queue.close();
        }
        const actual = createHash("sha256").update("this host's copy").digest("hex");
        expect(log).toContain(`failed (attempt 1/3): BACKEND_MODEL_NOT_FOUND: checkpoint file ${join(ppm, "value_head.safetensors")} differs from the run's: expected sha256 ${listed}, this host has ${actual}`);
        expect(log).not.toContain(": done in ");
        expect(log).not.toContain("serving the run's worker models");
    }, 180_000);

    it("backpressure: at most --queue-window problems are in Redis and at most --queue-batch results in memory", async () => {
        const out = join(root, "backpressure");
        const file = join(root, "many.jsonl");
        const many = Array.from({ length: 14 }, (_, index) => `Compute ${index + 2} + ${index + 3} * 2.`);
        writeFileSync(file, many.map((question) => JSON.stringify({ question, answer: "0" })).join("\n") + "\n");
        const running = [worker(), worker()];
        const run = coordinator(out, ["--queue-window", "3", "--queue-batch", "2", "--rollouts", "2"], file);
        const probe = new Queue("rstar-test-probe", { connection: { host: "127.0.0.1", port: redis.port } });
        let most = 0;
        let polls = 0;
        try {
            const client = await probe.getBackend().client;
            let finished = false;
            void run.done.then(() => (finished = true));
            while (!finished) {
                const registered = Object.keys(await client.hgetall(REGISTRY_KEY));
                for (const runId of registered) {
                    const queue = new Queue(`rstar-run-${runId}`, { connection: { host: "127.0.0.1", port: redis.port } });
                    const counts = await queue.getJobCounts("waiting", "active", "delayed", "prioritized", "completed", "failed");
                    await queue.close();
                    most = Math.max(most, Object.values(counts).reduce((a, b) => a + b, 0));
                    polls += 1;
                }
                await new Promise((resolve) => setTimeout(resolve, 30));
            }
        } finally {
            await probe.close();
        }
        const result = await run.done;
        expect(result.code, result.stderr).toBe(0);
        expect(resultLines(out)).toHaveLength(14);
        expect(polls).toBeGreaterThan(5);
        expect(most).toBeGreaterThan(0);
        expect(most).toBeLessThanOrEqual(3);
        const summary = JSON.parse(result.stdout) as { maxResultsHeld: number; maxOutstanding: number };
        expect(summary.maxOutstanding).toBe(3);
        expect(summary.maxResultsHeld).toBeLessThanOrEqual(2);
        for (const each of running) expect((await stopWorker(each)).code).toBe(0);
    }, 180_000);

    it("the shipped tiny llama.cpp policy and PPM: a queue run's trees and results equal a single-process run's", async () => {
        const heldout = "models/heldout/test.jsonl";
        const settings = ["--preset", "sample", "--rollouts", "2", "--candidates", "2", "--limit", "2", "--threads", "1"];
        const single = join(root, "shipped-single");
        const plain = await runRstar(["search", "--dataset", heldout, "--out", single, ...settings, "--concurrency", "1", "--sandbox-workers", "1", "--quiet"]);
        expect(plain.code, plain.stderr).toBe(0);
        const out = join(root, "shipped-queue");
        const running = start(["worker", "--queue", redis.url, "--threads", "1", "--concurrency", "1", "--sandbox-workers", "1", "--lock-duration-ms", "20000"]);
        const run = await start(["search", "--dataset", heldout, "--out", out, "--queue", redis.url, ...settings, "--json"]).done;
        expect(run.code, run.stderr).toBe(0);
        expect(runOutputs(out)).toEqual(runOutputs(single));
        expect(runOutputs(out).results).toHaveLength(2);
        const log = (await stopWorker(running)).stderr;
        expect(log).toContain("policy the shipped tiny policy");
        expect(log.match(/: done in /g)).toHaveLength(2);
    }, 300_000);

    it("Redis with a password: from the URL or RSTAR_REDIS_PASSWORD, never written to the run directory; a wrong one or no Redis exits 3", async () => {
        const secured = await startRedisServer({ password: "s3cret-pw" });
        try {
            const out = join(root, "password");
            const file = join(root, "one.jsonl");
            writeFileSync(file, JSON.stringify({ id: "q0", question: questions[0], answer: String(answers[0]) }) + "\n");
            const running = start(["worker", "--queue", secured.url, "--policy-url", server.baseURL, "--sandbox-workers", "1"], { RSTAR_REDIS_PASSWORD: "s3cret-pw" });
            const url = secured.url.replace("redis://", "redis://:s3cret-pw@");
            const run = await start(["search", "--dataset", file, "--out", out, "--queue", url, "--model", server.model, ...searchSettings, "--json"]).done;
            expect(run.code, run.stderr).toBe(0);
            expect(resultLines(out)).toHaveLength(1);
            const config = readFileSync(join(out, "config.json"), "utf8");
            expect(config).not.toContain("s3cret-pw");
            expect(config).toContain(`redis://:***@127.0.0.1:${secured.port}`);
            expect((await stopWorker(running)).code).toBe(0);

            const wrong = await start(["search", "--dataset", file, "--out", join(root, "wrong-password"), "--queue", secured.url.replace("redis://", "redis://:nope@"), "--model", server.model]).done;
            expect(wrong.code).toBe(3);
            expect(wrong.stderr).toMatch(/cannot reach Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+: WRONGPASS/);
            expect(wrong.stderr).not.toContain("nope");
            expect(existsSync(join(root, "wrong-password"))).toBe(false);
        } finally {
            await secured.close();
        }
        const nobody = await start(["worker", "--queue", `redis://127.0.0.1:${redis.port + 1}`]).done;
        expect(nobody.code).toBe(3);
        expect(nobody.stderr).toContain("ECONNREFUSED");
    }, 120_000);

    it("rstar eval --queue: workers search, and eval.json and problems.jsonl equal an evaluation in one process", async () => {
        const stepwise = ["--method", "maj@4", "--stop", "<end_of_step>", "<end_of_code>", "<end_of_answer>", "--max-tokens", "256", "--json", "--quiet"];
        const local = join(root, "eval-local");
        const plain = await runRstar(["eval", "--dataset", dataset, "--out", local, "--policy-url", server.baseURL, "--model", server.model, "--sandbox-workers", "1", ...stepwise]);
        expect(plain.code, plain.stderr).toBe(0);
        const out = join(root, "eval-queue");
        const running = worker();
        const queued = await start(["eval", "--dataset", dataset, "--out", out, "--queue", redis.url, "--model", server.model, "--sandbox-workers", "1", ...stepwise]).done;
        expect(queued.code, queued.stderr).toBe(0);
        const summary = JSON.parse(queued.stdout) as Record<string, unknown>;
        const reference = JSON.parse(plain.stdout) as Record<string, unknown>;
        const timeless = ({ seconds_per_problem: _s, wall_seconds: _w, out: _o, policy: _p, ...rest }: Record<string, unknown>) => rest;
        expect(timeless(summary)).toEqual(timeless(reference));
        expect(summary["policy"]).toBe(`queue:${redis.url} model ${server.model}`);
        const records = (dir: string) => readFileSync(join(dir, "problems.jsonl"), "utf8").trim().split("\n").map((line) => { const { seconds: _s, ...rest } = JSON.parse(line) as Record<string, unknown>; return rest; }).sort((a, b) => Number(a["index"]) - Number(b["index"]));
        expect(records(out)).toEqual(records(local));
        expect((await stopWorker(running)).stderr).toContain(": done in ");
    }, 180_000);
});
