import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadDataset } from "../../src/data/index.js";
import { createGrader, type Grader } from "../../src/grading/index.js";
import { OpenAiCompatibleBackend } from "../../src/llm/index.js";
import { AdaptiveConcurrency, runSearch } from "../../src/runs/index.js";
import { createSandbox, type Sandbox } from "../../src/sandbox/index.js";
import { BASE_SETTINGS, type SearchSettings } from "../../src/search/index.js";
import { openServices } from "../../src/cli/services.js";
import { startFixtureLlmServer } from "../support/fixture-llm-server.js";
import { buildRstarPrompt, startSimulatedPolicyServer, type SimulatedPolicyServer } from "../support/simulated-policy.js";

// Results must not depend on how many problems are in flight: seeds derive from problem and node only.
const questions = Array.from({ length: 12 }, (_, index) => `Compute ${2 + (index % 7)} * ${3 + (index % 5)} + ${index + 1}.`);
const settings: SearchSettings = { ...BASE_SETTINGS, rollouts: 4, candidates: 3, temperature: 1, errorThreshold: 2, seed: 5 };

let server: SimulatedPolicyServer;
let sandbox: Sandbox;
let grader: Grader;
let dataset: string;
const root = mkdtempSync(join(tmpdir(), "rstar-concurrency-"));

beforeAll(async () => {
    // A little service time so that the adaptive limit sees latency and throughput to act on.
    server = await startSimulatedPolicyServer({ stepCorrectProbability: 0.6, codeErrorProbability: 0.15, serviceTimeMs: 10 });
    sandbox = await createSandbox({ workers: 2 });
    grader = createGrader();
    dataset = join(root, "arith.jsonl");
    writeFileSync(dataset, questions.map((question) => JSON.stringify({ question, answer: "0", source: "test" })).join("\n") + "\n");
});

afterAll(async () => {
    await sandbox?.dispose();
    await grader?.dispose();
    await server?.close();
});

async function run(name: string, concurrency: number | AdaptiveConcurrency) {
    const dir = join(root, name);
    const policy = new OpenAiCompatibleBackend({ baseURL: server.baseURL, model: server.model });
    try {
        const summary = await runSearch({ dir, resume: false, datasetPath: dataset, problems: await loadDataset(dataset), settings, preset: null, services: { policy, executor: sandbox, judge: grader }, concurrency, versions: {} });
        expect(summary.finished).toBe(questions.length);
    } finally {
        await policy.dispose();
    }
    const trees = readFileSync(join(dir, "trees.jsonl"), "utf8").trim().split("\n").map((line) => JSON.parse(line) as { question: string });
    return trees.sort((a, b) => a.question.localeCompare(b.question));
}

describe("a run's results do not depend on its concurrency", () => {
    it("gives identical trees at concurrency 1, pinned 8 and adaptive", async () => {
        const one = await run("one", 1);
        const eight = await run("eight", 8);
        const adaptive = new AdaptiveConcurrency({ initial: 1, max: 12 });
        const adapted = await run("adaptive", adaptive);
        expect(one).toHaveLength(questions.length);
        expect(eight).toEqual(one);
        expect(adapted).toEqual(one);
        // The adaptive run really changed its limit (it started at one problem in flight).
        expect(adaptive.decisions.length).toBeGreaterThan(0);
        expect(adaptive.limit).toBeGreaterThan(1);
    });
});

describe("rstar search's services tell the adaptive limit about overload", () => {
    it("calls onOverload when the policy server answers 429 or 503, and not for a normal answer", async () => {
        const fixture = await startFixtureLlmServer({ flavor: "vllm" });
        const services = await openServices({ policyUrl: [fixture.baseURL], model: fixture.model, sandboxWorkers: 1 }, { ...settings, terminalReward: "ground-truth" });
        try {
            expect(services.remotePolicy).toBe(true);
            let overloads = 0;
            services.onOverload(() => (overloads += 1));
            const request = { prompt: buildRstarPrompt("Compute 2 + 3."), n: 1, temperature: 0, topP: 1, maxTokens: 64, stop: ["<end_of_step>"], seed: 1 };
            await services.policy.generate(request);
            expect(overloads).toBe(0);
            fixture.injectFaults({ kind: "status", status: 429, retryAfter: "0" }, { kind: "status", status: 503, retryAfter: "0" });
            await services.policy.generate(request);
            expect(overloads).toBe(2);
        } finally {
            await services.close();
            await fixture.close();
        }
    });
});
