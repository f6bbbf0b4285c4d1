import Database from "better-sqlite3";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { startRedisServer, type RedisServer } from "../support/redis-server.js";
import { runOutputs } from "../support/run-files.js";

/**
 * `rstar evolve --preset synthetic` in miniature (two rounds, a few problems, a few optimizer steps): the noisy
 * teacher bootstraps round 1 (search → SFT data and pairs → policy → PPM → greedy eval), round 2 searches with the
 * round-1 policy served by `rstar serve` and guided by the round-1 PPM. One run is killed with SIGKILL three times
 * (the search child, the SFT trainer child, then the orchestrator itself during PPM training) and resumed each time;
 * its artifacts must equal an uninterrupted run's.
 * Real processes throughout: the CLI, the teacher server, llama.cpp, the Python sandbox and PyTorch.
 */

const root = join(import.meta.dirname, "..", "..");
const bin = join(root, "bin", "rstar.js");
const work = mkdtempSync(join(tmpdir(), "rstar-evolve-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const miniature = {
    seed: 3,
    data: { synth: { train: 12, test: 3, ood: 3, difficulty: 1, steps: "2-2", oodSteps: "3-3", trainSteps: "2-2" } },
    serve: { policy: { kind: "embedded", threads: 1 }, reward: { kind: "embedded" } },
    roundDefaults: {
        problems: { sample: "window", count: 6 },
        sft: { trainer: { kind: "rstar", args: ["--preset", "test", "--max-steps", "6", "--threads", "1", "--merges", "64", "--quiet"] } },
        ppm: { minEditDistance: 0, trainer: { kind: "rstar", args: ["--max-steps", "4", "--threads", "1", "--quiet"] } },
    },
    rounds: [
        { policy: { kind: "teacher", errorScale: 4 }, search: { rollouts: 6, concurrency: 1, args: ["--candidates", "2", "--sandbox-workers", "1"] } },
        // The preset's rounds 3-4 in miniature (its round 2, the teacher on longer problems, is left out): the round-1
        // policy served by `rstar serve`, its own records x2 and pairs x4 mixed with round 1's.
        // Searches one problem at a time, so that trees.jsonl is in dataset order, as a --queue run writes it (a
        // single-process search with concurrency > 1 writes problems as they finish, and extraction follows that order).
        {
            policy: { kind: "embedded", threads: 1 },
            problems: { steps: "2-2" },
            sft: { ownRecordsRepeat: 2 },
            search: { preset: "sample", rollouts: 2, guidance: "ppm", concurrency: 1, args: ["--candidates", "2", "--max-depth", "3", "--max-tokens", "32", "--sandbox-workers", "1", "--threads", "1"] },
            // The preset's best-of-N sampling by the round-1 policy, in miniature: 2 problems outside the round's window, 2 samples.
            ppm: { ownPairsRepeat: 4, policySamples: { problems: 2, samples: 2, args: ["--max-depth", "3", "--max-tokens", "32", "--sandbox-workers", "1", "--threads", "1"] } },
        },
    ],
    // After the last round the teacher is evaluated too (eval.baseline): the student against its teacher.
    eval: { methods: ["greedy"], splits: ["test"], limit: 2, concurrency: 2, args: ["--max-tokens", "32", "--sandbox-workers", "1", "--threads", "1"], methodArgs: { greedy: ["--max-depth", "3"] }, baseline: { methods: ["greedy"], splits: ["test"] } },
};
const configFile = join(work, "mini.json");
writeFileSync(configFile, JSON.stringify(miniature));

interface Exit {
    code: number | null;
    stderr: string;
    stdout: string;
}

function spawned(args: string[]): { pid: number; stderr: () => string; done: Promise<Exit>; kill: (signal: NodeJS.Signals) => void } {
    const child = spawn(process.execPath, [bin, ...args], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    let stdout = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    const done = new Promise<Exit>((resolve) => child.on("close", (code) => resolve({ code, stderr, stdout })));
    return { pid: child.pid as number, stderr: () => stderr, done, kill: (signal) => child.kill(signal) };
}

/** An evaluation's eval.json without what differs between two runs of the same thing (times, the policy's address). */
function evalMetrics(dir: string): Record<string, unknown> {
    const all = JSON.parse(readFileSync(join(dir, "eval.json"), "utf8")) as Record<string, unknown>;
    const kept = ["method", "problems", "total", "failed", "accuracy", "ci95", "top_value", "majority", "weighted", "pass_at_k", "tokens_per_problem", "requests_per_problem", "scaling"];
    return Object.fromEntries(kept.map((key) => [key, all[key]]));
}

function evolve(out: string, extra: string[] = [], whileRunning?: (orchestratorPid: number) => Promise<void>): Promise<Exit> {
    const child = spawn(process.execPath, [bin, "evolve", "--preset", "synthetic", "--config", configFile, "--out", out, ...extra], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    let stdout = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    const done = new Promise<Exit>((resolve) => child.on("close", (code, signal) => resolve({ code: code ?? (signal === "SIGKILL" ? 137 : null), stderr, stdout })));
    void whileRunning?.(child.pid as number);
    return done;
}

function groupAlive(pid: number): boolean {
    try {
        process.kill(-pid, 0);
        return true;
    } catch {
        return false;
    }
}

type StageState = { status: string; pid: number | null; attempts: number; command: string | null; note: string | null; summary?: Record<string, unknown> };
function stages(out: string, round: number): Record<string, StageState> {
    const path = join(out, `round-${round}`, "state.json");
    if (!existsSync(path)) return {};
    try {
        return (JSON.parse(readFileSync(path, "utf8")) as { stages: Record<string, StageState> }).stages;
    } catch {
        return {};
    }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(what: string, probe: () => T | undefined | null | false, timeoutMs = 240_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
        const value = probe();
        if (value) return value;
        await sleep(20);
    }
    throw new Error(`timed out waiting for ${what}`);
}

function storedProblems(run: string): number {
    const file = join(run, "store.sqlite");
    if (!existsSync(file)) return 0;
    try {
        const db = new Database(file, { readonly: true, fileMustExist: true });
        try {
            return (db.prepare("SELECT COUNT(*) AS n FROM problems").get() as { n: number }).n;
        } finally {
            db.close();
        }
    } catch {
        return 0;
    }
}

/** A run's results without what differs between two runs of the same thing (timings). */
function results(path: string): unknown[] {
    return readFileSync(path, "utf8")
        .trim()
        .split("\n")
        .map((line) => {
            const { duration_ms: _, ...rest } = JSON.parse(line) as Record<string, unknown>;
            return rest;
        });
}

describe("rstar evolve --preset synthetic (miniature)", () => {
    const reference = join(work, "reference");
    const killed = join(work, "killed");

    it("runs every stage of two rounds; killed mid-stage three times and resumed, it yields the same artifacts", { timeout: 900_000 }, async () => {
        // The uninterrupted reference runs alongside the killed run.
        const referenceRun = evolve(reference);

        // 1. Kill the round-1 search (its `rstar search` process) once it has stored a problem but not all of them.
        let killedSearchAt = -1;
        const first = await evolve(killed, [], async () => {
            const pid = await until("the round-1 search", () => stages(killed, 1)["search"]?.pid);
            killedSearchAt = await until("a stored problem", () => storedProblems(join(killed, "round-1", "search")) || null);
            process.kill(pid, "SIGKILL");
        });
        expect(first.code, first.stderr).toBe(130);
        expect(first.stderr).toContain("continue with --resume");
        expect(stages(killed, 1)["search"]).toMatchObject({ status: "failed", note: "killed by SIGKILL", attempts: 1 });
        expect(killedSearchAt).toBeGreaterThan(0);
        const keptBeforeResume = storedProblems(join(killed, "round-1", "search"));
        expect(keptBeforeResume).toBeLessThan(6);

        // 2. Resume; kill the SFT trainer while it runs.
        const second = await evolve(killed, ["--resume"], async () => {
            const pid = await until("the round-1 SFT trainer", () => stages(killed, 1)["train-sft"]?.pid);
            await sleep(500);
            process.kill(pid, "SIGKILL");
        });
        expect(second.code, second.stderr).toBe(130);
        expect(second.stderr).toContain("[round 1/2] sample: done earlier, kept");
        const afterSecond = stages(killed, 1);
        expect(afterSecond["search"]).toMatchObject({ status: "done", attempts: 2 });
        // The resumed search kept what was stored before the kill.
        expect(afterSecond["search"]?.summary?.["resumed"]).toBe(keptBeforeResume);
        expect(afterSecond["extract-sft"]).toMatchObject({ status: "done", attempts: 1 });
        expect(afterSecond["train-sft"]).toMatchObject({ status: "failed", note: "killed by SIGKILL" });

        // 3. Resume; kill -9 the orchestrator itself while the PPM trainer runs (the trainer is left orphaned).
        let orphan = -1;
        const third0 = await evolve(killed, ["--resume"], async (orchestrator) => {
            orphan = await until("the round-1 PPM trainer", () => stages(killed, 1)["train-ppm"]?.pid);
            process.kill(orchestrator, "SIGKILL");
        });
        expect(third0.code).toBe(137);
        expect(stages(killed, 1)["train-sft"]).toMatchObject({ status: "done", attempts: 2 });
        expect(stages(killed, 1)["train-ppm"]).toMatchObject({ status: "running", pid: orphan });

        // 4. Resume to the end: the orphaned trainer is stopped first and the stage runs again.
        let orphanAliveAtRestart = true;
        const third = await evolve(killed, ["--resume", "--json"], async () => {
            await until("the PPM stage to start again", () => (stages(killed, 1)["train-ppm"]?.attempts ?? 0) >= 2);
            const deadline = Date.now() + 2_000;
            while (groupAlive(orphan) && Date.now() < deadline) await sleep(20);
            orphanAliveAtRestart = groupAlive(orphan);
        });
        expect(orphanAliveAtRestart).toBe(false);
        expect(stages(killed, 1)["train-ppm"]).toMatchObject({ status: "done", attempts: 2 });
        expect(third.code, third.stderr).toBe(0);
        const ref = await referenceRun;
        expect(ref.code, ref.stderr).toBe(0);

        for (const dir of [reference, killed]) {
            for (const round of [1, 2]) {
                for (const [name, stage] of Object.entries(stages(dir, round))) expect([name, stage.status]).toEqual([name, expect.stringMatching(/^(done|skipped)$/)]);
            }
        }
        const r1 = stages(killed, 1);
        expect(r1["train-sft"]?.attempts).toBe(2);
        expect(r1["search"]?.command).toContain("--model rstar-synth-teacher");
        // Round 2 searched with the round-1 policy (served by rstar serve) and the round-1 PPM.
        const r2 = stages(killed, 2);
        expect(r2["search"]?.command).toContain("--model policy");
        expect(r2["search"]?.command).toContain(`--ppm ${join(killed, "round-1", "ppm")}`);
        // ...and sampled best-of-N with the same policy (no PPM) on other train problems.
        expect(r2["policy-samples"]?.command).toContain("--preset best-of-n --samples 2");
        expect(r2["policy-samples"]?.command).toContain("--model policy --terminal-reward ground-truth --no-leaf-value");
        expect(r2["policy-samples"]?.command).not.toContain("--ppm");
        expect(results(join(killed, "round-2", "policy-samples", "results.jsonl"))).toEqual(results(join(reference, "round-2", "policy-samples", "results.jsonl")));
        expect(third.stderr).toContain(`rstar serve --policy ${join(killed, "round-1", "policy", "model.gguf")}`);
        expect(existsSync(join(killed, "round-1", "ppm", "value_head.safetensors"))).toBe(true);

        // The same artifacts as the uninterrupted run.
        const same = (path: string) => expect(readFileSync(join(killed, path)), path).toEqual(readFileSync(join(reference, path)));
        for (const path of ["data/train.jsonl", "round-1/problems.jsonl", "round-1/search/trees.jsonl", "round-1/sft.jsonl", "round-1/pairs.jsonl", "round-1/policy/model.gguf", "round-1/ppm/value_head.safetensors", "round-2/problems.jsonl", "round-2/policy-sample-problems.jsonl", "round-2/policy-sample-pairs.jsonl"]) same(path);
        expect(results(join(killed, "round-1", "search", "results.jsonl"))).toEqual(results(join(reference, "round-1", "search", "results.jsonl")));

        // One table across rounds.
        const report = JSON.parse(readFileSync(join(killed, "report.json"), "utf8")) as { table: Record<string, unknown>[]; rounds: { round: number; sftRecords: number; finalAnswerPairs: number | null; evals: Record<string, { accuracy: number | null }>; stages: Record<string, { seconds: number }> }[] };
        expect(report.table.map((row) => row["round"])).toEqual([1, 2]);
        expect(report.rounds[0]?.sftRecords).toBeGreaterThan(0);
        // The PPM columns are always there (null when the round held out no pairs).
        expect(Object.keys(report.table[0] ?? {})).toEqual(expect.arrayContaining(["ppm_heldout", "ppm_heldout_final_answer"]));
        // extract-ppm ran with the paper's final-answer pairs and its --json summary reached the report.
        expect(report.rounds[0]?.finalAnswerPairs).toEqual(expect.any(Number));
        expect(r1["extract-ppm"]?.command).toContain("--final-pairs paper");
        expect(report.rounds[0]?.evals["test-greedy"]?.accuracy).toEqual(expect.any(Number));
        // eval.baseline: the teacher of round 1, evaluated after the last round only, on this host.
        expect(report.rounds[1]?.evals["test-baseline-greedy"]?.accuracy).toEqual(expect.any(Number));
        expect(report.rounds[0]?.evals["test-baseline-greedy"]).toBeUndefined();
        expect(stages(killed, 2)["eval-test-baseline-greedy"]).toMatchObject({ status: "done", command: expect.stringContaining("--model rstar-synth-teacher") });
        expect(report.rounds[0]?.stages["search"]?.seconds).toBeGreaterThan(0);
        expect(JSON.parse(third.stdout.trim().split("\n").pop() as string)).toMatchObject({ report: join(killed, "report.json"), rounds: [1, 2] });
    });

    it("--export-models ships the last round (policy, PPM, held-out splits, manifest with the table) and rstar demo shows its rounds", { timeout: 300_000 }, async () => {
        const killed = join(work, "killed");
        const models = join(work, "shipped");
        // A finished run: --resume runs no stage and only exports.
        const exported = await evolve(killed, ["--resume", "--export-models", models, "--json"]);
        expect(exported.code, exported.stderr).toBe(0);
        expect(exported.stderr).not.toContain("starting server");
        expect(JSON.parse(exported.stdout.trim().split("\n").pop() as string)).toMatchObject({ models: { out: models, round: 2 } });
        const round2 = JSON.parse(readFileSync(join(killed, "round-2", "state.json"), "utf8")) as { artifacts: { policy: string; ppm: string } };
        expect(readFileSync(join(models, "policy", "model.gguf"))).toEqual(readFileSync(join(killed, round2.artifacts.policy, "model.gguf")));
        expect(readFileSync(join(models, "ppm", "value_head.safetensors"))).toEqual(readFileSync(join(killed, round2.artifacts.ppm, "value_head.safetensors")));
        expect(readFileSync(join(models, "heldout", "ood.jsonl"), "utf8")).toBe(readFileSync(join(killed, "data", "ood.jsonl"), "utf8"));
        const manifest = JSON.parse(readFileSync(join(models, "manifest.json"), "utf8")) as Record<string, unknown>;
        const report = JSON.parse(readFileSync(join(killed, "report.json"), "utf8")) as { table: unknown[] };
        expect(manifest).toMatchObject({ format: "rstar-models/2", round: 2, rounds: 2, seed: 3, table: report.table });
        expect(manifest["builtBy"]).toContain(`--export-models ${models}`);
        // rstar demo on the exported models: its rows, then the rounds that made them.
        const demo = spawnSync(process.execPath, [bin, "demo", "--models", models, "--problems", "1", "--samples", "1", "--rollouts", "1", "--candidates", "1", "--no-teacher", "--threads", "1", "--out", join(work, "demo-shipped"), "--quiet"], { cwd: root, encoding: "utf8", timeout: 240_000 });
        expect(demo.status, demo.stderr).toBe(0);
        expect(demo.stdout).toContain("how the shipped models were made");
        expect(demo.stdout).toMatch(/\n\s+1\s+\S+%.*\n\s+2\s+/);
        // --rounds picks the round shipped; the models directory is replaced whole.
        const first = await evolve(killed, ["--resume", "--rounds", "1", "--export-models", models]);
        expect(first.code, first.stderr).toBe(0);
        expect(JSON.parse(readFileSync(join(models, "manifest.json"), "utf8"))).toMatchObject({ round: 1 });
        expect(readFileSync(join(models, "policy", "model.gguf"))).toEqual(readFileSync(join(killed, "round-1", "policy", "model.gguf")));
    });

    it("--queue: two rstar workers (no --policy-url) start each round's teacher, trained policy and PPM themselves; every artifact equals the single-process run's", { timeout: 600_000 }, async () => {
        const queued = join(work, "queued");
        let redis: RedisServer | undefined;
        const workers: ReturnType<typeof spawned>[] = [];
        try {
            redis = await startRedisServer();
            const url = redis.url;
            for (let i = 0; i < 2; i += 1) {
                workers.push(spawned(["worker", "--queue", url, "--concurrency", "2", "--sandbox-workers", "1", "--threads", "1", "--pause-ms", "500"]));
            }
            const run = await evolve(queued, ["--queue", url]);
            expect(run.code, run.stderr).toBe(0);
            // No server started on the coordinator: the workers started them.
            expect(run.stderr).not.toContain("starting server");
            const r1 = stages(queued, 1);
            const r2 = stages(queued, 2);
            expect(r1["search"]?.command).toContain(`--queue ${url} --worker-models ${join(queued, "round-1", "worker-models-search.json")} --model rstar-synth-teacher`);
            expect(r1["search"]?.command).not.toContain("--policy-url");
            expect(r2["search"]?.command).not.toContain("--ppm");
            expect(r1["eval-test-greedy"]?.command).toContain(`--worker-models ${join(queued, "round-1", "worker-models-eval.json")}`);
            // Round 2's searches name the round-1 policy and PPM with their hashes; the run's config.json records them.
            const models = JSON.parse(readFileSync(join(queued, "round-2", "worker-models-search.json"), "utf8")) as { policy: { checkpoint: string }; reward: { ppm: string }; files: { path: string; sha256: string }[] };
            expect(models.policy.checkpoint).toBe(join(queued, "round-1", "policy"));
            expect(models.reward.ppm).toBe(join(queued, "round-1", "ppm"));
            expect(models.files.map((file) => file.path)).toEqual(expect.arrayContaining([join(queued, "round-1", "policy", "model.gguf"), join(queued, "round-1", "ppm", "value_head.safetensors")]));
            expect(JSON.parse(readFileSync(join(queued, "round-2", "search", "config.json"), "utf8")).workerModels).toEqual(models);
            const stops = await Promise.all(workers.map(async (worker) => (worker.kill("SIGTERM"), await worker.done)));
            const logs = stops.map((stop) => stop.stderr).join("\n");
            for (const stop of stops) expect(stop.code, stop.stderr).toBe(0);
            expect(logs).toContain("rstar-synth-teacher");
            expect(logs).toContain(`serving the run's worker models: policy http://127.0.0.1:`);
            expect(logs).toContain(`PPM ${join(queued, "round-1", "ppm")}`);
            // Both workers searched, and each stopped the servers it had started (SIGTERM: no server outlives its worker).
            for (const stop of stops) expect(stop.stderr).toContain(": done in ");
            const servers = [...logs.matchAll(/starting the policy server (\S+)/g)].map((match) => match[1] as string);
            expect(servers.length).toBeGreaterThanOrEqual(2);
            expect((logs.match(/stopped the worker models' servers/g) ?? []).length).toBe(servers.length);
            for (const server of servers) await expect(fetch(`${server}/models`, { signal: AbortSignal.timeout(2000) })).rejects.toThrow();

            // The same artifacts as the single-process reference run of test 1.
            const same = (path: string) => expect(readFileSync(join(queued, path)), path).toEqual(readFileSync(join(reference, path)));
            for (const round of [1, 2]) {
                for (const path of ["problems.jsonl", "sft.jsonl", "pairs.jsonl"]) same(`round-${round}/${path}`);
                if (round === 2) {
                    same("round-2/policy-sample-pairs.jsonl");
                    expect(r2["policy-samples"]?.command).toContain(`--queue ${url} --worker-models ${join(queued, "round-2", "worker-models-search.json")} --model policy --terminal-reward ground-truth`);
                    expect(runOutputs(join(queued, "round-2", "policy-samples")), "round 2 policy samples").toEqual(runOutputs(join(reference, "round-2", "policy-samples")));
                }
                expect(runOutputs(join(queued, `round-${round}`, "search")), `round ${round} search`).toEqual(runOutputs(join(reference, `round-${round}`, "search")));
                expect(evalMetrics(join(queued, `round-${round}`, "eval", "test-greedy")), `round ${round} eval`).toEqual(evalMetrics(join(reference, `round-${round}`, "eval", "test-greedy")));
            }
            // eval.baseline: the workers serve the teacher of round 1 (worker-models-baseline.json) and score as the single-process run.
            expect(r2["eval-test-baseline-greedy"]?.command).toContain(`--worker-models ${join(queued, "round-2", "worker-models-baseline.json")}`);
            expect(JSON.parse(readFileSync(join(queued, "round-2", "worker-models-baseline.json"), "utf8"))).toMatchObject({ policy: { endpoint: { kind: "teacher" } } });
            expect(evalMetrics(join(queued, "round-2", "eval", "test-baseline-greedy")), "round 2 baseline eval").toEqual(evalMetrics(join(reference, "round-2", "eval", "test-baseline-greedy")));
            same("round-1/policy/model.gguf");
            same("round-1/ppm/value_head.safetensors");
            expect(JSON.parse(readFileSync(join(queued, "queue.json"), "utf8"))).toEqual({ queue: url });
        } finally {
            for (const worker of workers) worker.kill("SIGKILL");
            await redis?.close();
        }
    });

    it("--queue with a password: the stages get it in RSTAR_REDIS_PASSWORD, and no command line, state file or queue.json holds it", { timeout: 120_000 }, async () => {
        const redis = await startRedisServer({ password: "s3cret-pw" });
        const out = join(work, "password");
        const client = new Redis({ host: "127.0.0.1", port: redis.port, password: "s3cret-pw" });
        const run = spawned(["evolve", "--preset", "synthetic", "--config", configFile, "--out", out, "--queue", `redis://:s3cret-pw@127.0.0.1:${redis.port}`]);
        try {
            // The round-1 search registers its run: it reached the password-protected Redis (no worker is running).
            const deadline = Date.now() + 90_000;
            while (Object.keys(await client.hgetall("rstar:runs")).length === 0) {
                if (Date.now() > deadline || run.stderr().includes("failed")) throw new Error(`the search did not register its run:\n${run.stderr()}`);
                await sleep(100);
            }
            run.kill("SIGINT");
            const stopped = await run.done;
            expect(stopped.code, stopped.stderr).toBe(130);
            expect(stages(out, 1)["search"]?.command).toContain(`--queue redis://127.0.0.1:${redis.port} --worker-models`);
            expect(JSON.parse(readFileSync(join(out, "queue.json"), "utf8"))).toEqual({ queue: `redis://127.0.0.1:${redis.port}` });
            const files = spawnSync("grep", ["-rl", "s3cret-pw", out], { encoding: "utf8" });
            expect(files.stdout).toBe("");
            expect(stopped.stderr).not.toContain("s3cret-pw");
        } finally {
            run.kill("SIGKILL");
            client.disconnect();
            await redis.close();
        }
    });

    it("from round 2 the PPM trains on its own pairs (repeated), its policy's best-of-N sample pairs (ppm.policySamples) and every earlier round's: round-N/ppm-pairs.jsonl", { timeout: 300_000 }, async () => {
        // Both rounds search with the teacher, so that round 2 has pairs of its own without a trained policy.
        const teacher = { policy: { kind: "teacher", errorScale: 4 }, problems: { steps: "2-2" }, search: { preset: "bootstrap", guidance: "terminal", rollouts: 6, concurrency: 2, args: ["--candidates", "2", "--sandbox-workers", "1"] } };
        // Round 2 also samples best-of-6 with its policy (the teacher here) on the 6 train problems outside its window.
        // Its PPM is first pretrained on misread pairs from 30 new synthetic problems (ppm.misreadPretrain).
        const misreadPretrain = { problems: 30, heldOut: 5, trainer: { kind: "rstar", args: ["--max-steps", "4", "--threads", "1", "--quiet"] } };
        const sampling = { ownPairsRepeat: 4, policySamples: { problems: 6, samples: 6, repeat: 2, args: ["--sandbox-workers", "1"] }, misreadPretrain };
        // Round 2's policy also trains on round 1's SFT records after its own, twice (sft.earlierRecords).
        const mixed = { ...miniature, rounds: [teacher, { ...teacher, ppm: sampling, sft: { earlierRecords: "all", ownRecordsRepeat: 2 } }], eval: { ...miniature.eval, methods: [], baseline: null } };
        const file = join(work, "mixed.json");
        writeFileSync(file, JSON.stringify(mixed));
        const out = join(work, "mixed");
        const run = await new Promise<Exit>((resolve) => {
            const child = spawn(process.execPath, [bin, "evolve", "--preset", "synthetic", "--config", file, "--out", out, "--quiet"], { cwd: root });
            let stderr = "";
            child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
            child.on("close", (code) => resolve({ code, stderr, stdout: "" }));
        });
        expect(run.code, run.stderr).toBe(0);
        const lines = (path: string) => readFileSync(join(out, path), "utf8").split("\n").filter((line) => line !== "");
        const own = lines("round-2/pairs.jsonl");
        const earlier = lines("round-1/pairs.jsonl");
        expect(own.length).toBeGreaterThan(0);
        expect(earlier.length).toBeGreaterThan(0);
        const samples = lines("round-2/policy-sample-pairs.jsonl");
        expect(samples.length).toBeGreaterThan(0);
        // The synthetic preset's weights in its policy rounds: this round's pairs 4 times, its policy's best-of-N pairs twice, then round 1's.
        expect(lines("round-2/ppm-pairs.jsonl")).toEqual([...own, ...own, ...own, ...own, ...samples, ...samples, ...earlier]);
        // The sampled problems: 6 train problems, none of round 2's searched ones, each sampled; pairs extracted as the round's own.
        const sampled = lines("round-2/policy-sample-problems.jsonl");
        const searched = new Set(lines("round-2/problems.jsonl"));
        expect(sampled).toHaveLength(6);
        expect(sampled.filter((line) => searched.has(line))).toEqual([]);
        expect(results(join(out, "round-2", "policy-samples", "results.jsonl"))).toHaveLength(6);
        const r2 = stages(out, 2);
        expect(r2["policy-samples"]).toMatchObject({ status: "done", command: expect.stringContaining(`--dataset ${join(out, "round-2", "policy-sample-problems.jsonl")} --out ${join(out, "round-2", "policy-samples")} --preset best-of-n --samples 6`) });
        expect(r2["extract-policy-samples"]).toMatchObject({ status: "done", command: expect.stringContaining(`--trees ${join(out, "round-2", "policy-samples", "trees.jsonl")} --out ${join(out, "round-2", "policy-sample-pairs.jsonl")}`) });
        expect(r2["extract-policy-samples"]?.command).toContain("--final-pairs paper");
        expect(stages(out, 1)["policy-samples"]).toBeUndefined();
        // The round report counts them and times the stages.
        const report = JSON.parse(readFileSync(join(out, "round-2", "report.json"), "utf8")) as { policySamplePairs: number; stages: Record<string, { seconds: number }> };
        expect(report.policySamplePairs).toBe(samples.length);
        expect(report.stages["policy-samples"]?.seconds).toBeGreaterThan(0);
        expect(report.stages["extract-policy-samples"]?.seconds).toBeGreaterThan(0);
        expect(stages(out, 2)["train-ppm"]).toMatchObject({ status: "done", command: expect.stringContaining(`--pairs ${join(out, "round-2", "ppm-pairs.jsonl")}`) });
        // ppm.misreadPretrain: pairs from new problems (none of test's or ood's), a PPM pretrained on them from the
        // round's policy with the held-out ones measured, and the round's PPM continued from it.
        const misreads = lines("round-2/misread-pairs.jsonl");
        const misreadHeldOut = lines("round-2/misread-heldout.jsonl");
        expect(misreads.length).toBeGreaterThan(30);
        expect(misreadHeldOut.length).toBeGreaterThan(0);
        const questionOf = (line: string) => (JSON.parse(line) as { prompt: string }).prompt.split("\n")[1];
        const evaluated = new Set([...lines("data/test.jsonl"), ...lines("data/ood.jsonl")].map((line) => (JSON.parse(line) as { question: string }).question));
        expect([...misreads, ...misreadHeldOut].filter((line) => evaluated.has(questionOf(line) as string))).toEqual([]);
        const trainedOn = new Set(misreads.map(questionOf));
        expect(misreadHeldOut.filter((line) => trainedOn.has(questionOf(line)))).toEqual([]);
        expect(r2["misread-pairs"]).toMatchObject({ status: "done" });
        expect(r2["pretrain-ppm"]).toMatchObject({ status: "done", command: expect.stringContaining(`--pairs ${join(out, "round-2", "misread-pairs.jsonl")} --base ${join(out, "round-2", "policy")} --out ${join(out, "round-2", "ppm-misreads")}`) });
        expect(r2["pretrain-ppm"]?.command).toContain(`--test-pairs ${join(out, "round-2", "misread-heldout.jsonl")}`);
        expect(r2["train-ppm"]?.command).toContain(`--base ${join(out, "round-2", "ppm-misreads")}`);
        expect(existsSync(join(out, "round-2", "ppm-misreads", "model.gguf"))).toBe(true);
        expect(stages(out, 1)["pretrain-ppm"]).toBeUndefined();
        expect(stages(out, 1)["train-ppm"]?.command).toContain(`--base ${join(out, "round-1", "policy")}`);
        const misreadReport = (JSON.parse(readFileSync(join(out, "round-2", "report.json"), "utf8")) as { misreadPretrain: { pairs: number; heldout: { pairs: number } | null } }).misreadPretrain;
        expect(misreadReport.pairs).toBe(misreads.length);
        expect(misreadReport.heldout?.pairs).toBe(misreadHeldOut.length);
        expect(stages(out, 1)["train-ppm"]?.command).toContain(`--pairs ${join(out, "round-1", "pairs.jsonl")}`);
        // sft.earlierRecords "all": round 2's policy trains on its records twice, then round 1's.
        const ownRecords = lines("round-2/sft.jsonl");
        expect(ownRecords.length).toBeGreaterThan(0);
        expect(lines("round-2/sft-mix.jsonl")).toEqual([...ownRecords, ...ownRecords, ...lines("round-1/sft.jsonl")]);
        expect(stages(out, 2)["train-sft"]?.command).toContain(`--data ${join(out, "round-2", "sft-mix.jsonl")}`);
        expect(stages(out, 1)["train-sft"]?.command).toContain(`--data ${join(out, "round-1", "sft.jsonl")}`);
        expect(existsSync(join(out, "round-1", "ppm-pairs.jsonl"))).toBe(false);
    });

    it("refuses to reuse a directory without --resume, and a resume with a changed config", async () => {
        const again = await evolve(reference);
        expect(again.code).toBe(2);
        expect(again.stderr).toContain("add --resume");
        // A run started without --queue keeps its searches here.
        const queued = await evolve(reference, ["--resume", "--queue", "redis://127.0.0.1:1"]);
        expect(queued.code).toBe(2);
        expect(queued.stderr).toContain("was started without --queue");
        expect(existsSync(join(reference, "queue.json"))).toBe(false);
        const changed = join(work, "changed.json");
        writeFileSync(changed, JSON.stringify({ ...miniature, seed: 4 }));
        const child = await new Promise<Exit>((resolve) => {
            const p = spawn(process.execPath, [bin, "evolve", "--preset", "synthetic", "--config", changed, "--out", reference, "--resume"], { cwd: root });
            let stderr = "";
            p.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
            p.on("close", (code) => resolve({ code, stderr, stdout: "" }));
        });
        expect(child.code).toBe(2);
        expect(child.stderr).toContain("the config differs");
    });
});
