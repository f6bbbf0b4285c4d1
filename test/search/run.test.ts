import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadDataset } from "../../src/data/index.js";
import { createGrader, type Grader } from "../../src/grading/index.js";
import { MockLlmBackend, OpenAiCompatibleBackend } from "../../src/llm/index.js";
import { RstarError } from "../../src/errors/index.js";
import { RunStore, runSearch } from "../../src/runs/index.js";
import { createSandbox, type Sandbox } from "../../src/sandbox/index.js";
import { BASE_SETTINGS, type SearchSettings } from "../../src/search/index.js";
import { runRstar, type CliResult } from "../support/cli.js";
import { startSimulatedPolicyServer, type SimulatedPolicyServer } from "../support/simulated-policy.js";

const questions = ["Compute 3 + 4 * 5.", "Compute (2 + 3) * 4.", "Compute 7 * 8 - 9.", "Compute 12 - 4 + 6 * 2.", "Compute 9 * (3 + 2) - 1.", "Compute 5 + 6."];
const answers = [23, 20, 47, 20, 44, 11];

let server: SimulatedPolicyServer;
let sandbox: Sandbox;
let grader: Grader;
let dataset: string;
const root = mkdtempSync(join(tmpdir(), "rstar-run-"));

const settings: SearchSettings = { ...BASE_SETTINGS, rollouts: 4, candidates: 3, temperature: 1, errorThreshold: 2, seed: 11 };

beforeAll(async () => {
    server = await startSimulatedPolicyServer({ stepCorrectProbability: 0.6, codeErrorProbability: 0.15 });
    sandbox = await createSandbox({ workers: 2 });
    grader = createGrader();
    dataset = join(root, "arith.jsonl");
    writeFileSync(dataset, questions.map((question, index) => JSON.stringify({ question, answer: String(answers[index]), source: "test" })).join("\n") + "\n");
});

afterAll(async () => {
    await sandbox?.dispose();
    await grader?.dispose();
    await server?.close();
});

function services() {
    return { policy: new OpenAiCompatibleBackend({ baseURL: server.baseURL, model: server.model }), executor: sandbox, judge: grader };
}

function stable(line: string) {
    const record = JSON.parse(line) as Record<string, unknown>;
    delete record["duration_ms"];
    return record;
}

describe("durable search runs over a real HTTP policy, sandbox and grader", () => {
    it("searches every problem, commits each to SQLite and exports results and official-format trees", async () => {
        const dir = join(root, "full");
        const problems = await loadDataset(dataset);
        const summary = await runSearch({ dir, resume: false, datasetPath: dataset, problems, settings, preset: null, services: services(), concurrency: 3, versions: {} });
        expect(summary).toMatchObject({ total: 6, finished: 6, failed: 0, resumed: 0 });
        const results = readFileSync(join(dir, "results.jsonl"), "utf8").trim().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
        expect(results.map((r) => r["index"]).sort()).toEqual([0, 1, 2, 3, 4, 5]);
        for (const result of results) {
            expect(result).toHaveProperty("selected_answer");
            expect(Array.isArray(result["terminal_answers"])).toBe(true);
            expect(result["requests"]).toBeGreaterThan(0);
            const gold = String(answers[result["index"] as number]);
            for (const terminal of result["terminal_answers"] as { answer: string; correct: boolean }[]) expect(terminal.correct).toBe(terminal.answer === gold);
        }
        // Ground-truth reward: selection saw the gold answer, so the run reports what rollouts solved, not an accuracy.
        expect(summary).toMatchObject({ accuracy: null, selectionSawGold: true });
        expect(summary.passAny).toBeGreaterThan(0);
        expect(summary.passAny).toBeCloseTo(results.filter((r) => r["pass_any"] === true).length / results.length, 12);
        for (const result of results) expect(result).toMatchObject({ selection_saw_gold: true, correct: result["pass_any"] });
        const trees = readFileSync(join(dir, "trees.jsonl"), "utf8").trim().split("\n").map((line) => JSON.parse(line) as { question: string; source: string; rstar: Record<string, Record<string, unknown>> });
        expect(trees).toHaveLength(6);
        const tree = trees[0]!;
        expect(tree.source).toBe("test");
        expect(tree.rstar["0"]?.["extra_info"]).toBe(`question: ${tree.question}`);
        for (const state of Object.values(tree.rstar)) {
            for (const key of ["text", "extra_info", "action", "action_input", "final_answer", "value", "q_value", "visit_count"]) expect(state).toHaveProperty(key);
        }
        const store = new RunStore(join(dir, "store.sqlite"));
        expect(store.count()).toBe(6);
        store.close();
        await expect(runSearch({ dir, resume: false, datasetPath: dataset, problems, settings, preset: null, services: services(), concurrency: 1, versions: {} })).rejects.toMatchObject({ code: "RUN_CONFLICT" });
    });

    it("resumes after kill -9: keeps finished problems, never duplicates, and ends equal to an uninterrupted run", async () => {
        const slow = await startSimulatedPolicyServer({ stepCorrectProbability: 0.6, codeErrorProbability: 0.15, serviceTimeMs: 40 });
        try {
            const cli = (dir: string, extra: string[] = []) => [
                "bin/rstar.js", "search", "--dataset", dataset, "--out", dir, "--policy-url", slow.baseURL, "--model", slow.model,
                "--preset", "bootstrap", "--prompt", "sft", "--rollouts", "4", "--candidates", "3", "--temperature", "1", "--error-threshold", "2",
                "--seed", "11", "--concurrency", "2", "--sandbox-workers", "1", "--quiet", ...extra,
            ];
            const reference = join(root, "reference");
            await runCli(cli(reference));
            const crashed = join(root, "crashed");
            const child = spawn(process.execPath, cli(crashed), { stdio: "ignore" });
            await waitFor(() => existsSync(join(crashed, "results.jsonl")) && readFileSync(join(crashed, "results.jsonl"), "utf8").split("\n").length >= 3, 60_000);
            child.kill("SIGKILL");
            await new Promise((resolve) => child.once("exit", resolve));
            const before = readFileSync(join(crashed, "results.jsonl"), "utf8").trim().split("\n").length;
            expect(before).toBeGreaterThanOrEqual(2);
            expect(before).toBeLessThan(6);
            await runCli(cli(crashed, ["--resume"]));
            const resumed = readFileSync(join(crashed, "results.jsonl"), "utf8").trim().split("\n");
            expect(resumed).toHaveLength(6);
            const byIndex = (lines: string[]) => lines.map(stable).sort((a, b) => (a["index"] as number) - (b["index"] as number));
            expect(byIndex(resumed)).toEqual(byIndex(readFileSync(join(reference, "results.jsonl"), "utf8").trim().split("\n")));
            const trees = (dir: string) => readFileSync(join(dir, "trees.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { question: string }).sort((a, b) => a.question.localeCompare(b.question));
            expect(trees(crashed)).toEqual(trees(reference));
        } finally {
            await slow.close();
        }
    }, 180_000);

    it("counts a problem that failed on its own the same way in the session that failed it and after a resume", async () => {
        const dir = join(root, "one-failed");
        const file = join(root, "with-bad.jsonl");
        writeFileSync(file, ["Compute 2 + 3.", "Compute 1 + 4.", "Compute bad."].map((question) => JSON.stringify({ question, answer: "5" })).join("\n") + "\n");
        const problems = await loadDataset(file);
        // A policy that solves the arithmetic in two steps, and whose server rejects the third question's prompt.
        const policy = new MockLlmBackend({
            script: (request) => {
                if (request.prompt.includes("Compute bad.")) throw new RstarError("BACKEND_RESPONSE_INVALID", "the server rejected this prompt");
                if (request.prompt.includes("<end_of_output>")) return { completions: [{ text: "\n<answer>\\boxed{5}", stop: "<end_of_answer>", finishReason: "stop" }] };
                return { completions: [{ text: "<code>\nprint(5)\n", stop: "<end_of_code>", finishReason: "stop" }] };
            },
        });
        const blind: SearchSettings = { ...BASE_SETTINGS, algorithm: "greedy", candidates: 1, temperature: 0, terminalReward: "none", maxDepth: 4 };
        const run = (resume: boolean) =>
            runSearch({ dir, resume, datasetPath: file, problems, settings: blind, preset: null, services: { policy, executor: sandbox, judge: grader }, concurrency: 1, versions: {} });
        const first = await run(false);
        expect(first).toMatchObject({ finished: 3, failed: 1, selectionSawGold: false });
        // two of three problems answered correctly: the failed one counts as graded and wrong
        expect(first.accuracy).toBeCloseTo(2 / 3, 12);
        expect(first.passAny).toBeCloseTo(2 / 3, 12);
        const again = await run(true);
        expect(again).toMatchObject({ finished: 3, resumed: 3, accuracy: first.accuracy, passAny: first.passAny });
    }, 60_000);

    it("fails fast with the URL named when the server is unreachable, and with the served models on a wrong model", async () => {
        const unreachable = await runCli(["bin/rstar.js", "search", "--dataset", dataset, "--out", join(root, "x"), "--policy-url", "http://127.0.0.1:9/v1", "--model", "m", "--request-timeout-ms", "2000"], true);
        expect(unreachable.code).toBe(3);
        expect(unreachable.stderr).toContain("127.0.0.1:9");
        const wrongModel = await runCli(["bin/rstar.js", "search", "--dataset", dataset, "--out", join(root, "y"), "--policy-url", server.baseURL, "--model", "nope"], true);
        expect(wrongModel.code).toBe(3);
        expect(wrongModel.stderr).toContain("nope");
        const badFlag = await runCli(["bin/rstar.js", "search", "--dataset", dataset, "--out", join(root, "z"), "--policy-url", server.baseURL, "--model", server.model, "--rollouts", "0"], true);
        expect(badFlag.code).toBe(2);
        expect(badFlag.stderr).toContain("--rollouts");
    }, 60_000);
});

async function runCli(args: string[], allowFailure = false): Promise<CliResult> {
    const [entry, ...rest] = args;
    if (entry !== "bin/rstar.js") throw new Error("runCli runs bin/rstar.js");
    const result = await runRstar(rest);
    if (result.code !== 0 && !allowFailure) throw new Error(`rstar ${rest.slice(0, 2).join(" ")} exited ${result.code}: ${result.stderr}`);
    return result;
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
        if (Date.now() > deadline) throw new Error("timed out waiting");
        await new Promise((resolve) => setTimeout(resolve, 25));
    }
}
