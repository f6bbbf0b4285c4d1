import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI, { BadRequestError, RateLimitError } from "openai";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createGrader, type Grader } from "../../src/grading/index.js";
import { LlamaCppBackend, OpenAiCompatibleBackend, acquireModel } from "../../src/llm/index.js";
import { LlamaCppPpm } from "../../src/reward/index.js";
import { createSandbox, type Sandbox } from "../../src/sandbox/index.js";
import { defaultSolverModels, startRstarServer, type RstarServer } from "../../src/serve/index.js";
import { solveProblem, toOfficialStates, type SearchServices } from "../../src/search/index.js";
import { generateDataset } from "../../src/synth/index.js";
import { collect, firstLine, spawnRstar } from "../support/cli.js";
import { SHIPPED_POLICY, SHIPPED_PPM_DIR } from "../support/shipped-models.js";

/**
 * Solver models on the shipped policy and PPM: a chat completion to `rstar-greedy`, `rstar-bon-8` or `rstar-mcts`
 * runs the project's search (real sandbox, real grader, real PPM) and answers with the chosen trajectory.
 */
const storeDir = join(mkdtempSync(join(tmpdir(), "rstar-serve-solvers-")), "run");
const problems = generateDataset({ seed: 1, train: 0, test: 8, ood: 0 }).test;

let held: { release: () => Promise<void> } | undefined;
let policy: LlamaCppBackend;
let ppm: LlamaCppPpm;
let sandbox: Sandbox;
let grader: Grader;
let services: SearchServices;
let server: RstarServer;
let client: OpenAI;
beforeAll(async () => {
    held = await acquireModel(SHIPPED_POLICY);
    policy = new LlamaCppBackend({ modelPath: SHIPPED_POLICY, threads: 1, sequences: 8 });
    ppm = await LlamaCppPpm.fromDirectory(SHIPPED_PPM_DIR, { threads: 1 });
    sandbox = await createSandbox({ workers: 1 });
    grader = createGrader();
    services = { policy, executor: sandbox, judge: grader, rewardModel: ppm };
    server = await startRstarServer({ policy, maxModelLen: await policy.contextSize(), solvers: { services, maxBudget: 20, maxInFlight: 1, storeDir } });
    client = new OpenAI({ baseURL: server.baseURL, apiKey: "unused", maxRetries: 0 });
}, 60_000);
afterAll(async () => {
    await server?.close();
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
    counters: { rollouts: number; codeRuns: number; requests: number };
}
const audit = (reply: unknown) => (reply as { rstar: Audit }).rstar;

describe("rstar serve: solver models (shipped policy and PPM)", () => {
    it("lists the solver models beside the policy", async () => {
        const models = await client.models.list();
        expect(models.data.map((model) => model.id)).toEqual(["model", "rstar-greedy", "rstar-bon-8", "rstar-mcts"]);
    });

    it("rstar-greedy answers a synthetic problem correctly, with the verified trajectory and its real output", async () => {
        const problem = problems[5]!; // one the shipped policy solves greedily
        const reply = await client.chat.completions.create({ model: "rstar-greedy", messages: [{ role: "user", content: problem.question }] });
        const content = reply.choices[0]?.message.content ?? "";
        expect(audit(reply).answer).toBe(problem.answer);
        expect(await grader.equal(problem.answer as string, audit(reply).answer ?? "")).toBe(true);
        expect(content).toContain("<code>");
        expect(content).toContain(`<output>${problem.answer}`); // the sandbox's output, not the model's guess
        expect(content).toContain(`\\boxed{${problem.answer}}`);
        expect(audit(reply).counters.codeRuns).toBeGreaterThan(0);
        // kept in the server's run directory, in rstar search's formats
        const run = (reply as unknown as { rstar: { run: { dir: string; position: number } } }).rstar.run;
        expect(run.dir).toBe(storeDir);
        const results = readFileSync(join(storeDir, "results.jsonl"), "utf8").trim().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
        expect(results[run.position]).toMatchObject({ index: run.position, question: problem.question, selected_answer: problem.answer, request_id: reply.id, model: "rstar-greedy" });
        const trees = readFileSync(join(storeDir, "trees.jsonl"), "utf8").trim().split("\n").map((line) => JSON.parse(line) as { question: string; rstar: Record<string, unknown> });
        expect(trees[run.position]?.question).toBe(problem.question);
        expect(Object.keys(trees[run.position]?.rstar ?? {}).length).toBeGreaterThan(1);
        expect(existsSync(join(storeDir, "store.sqlite"))).toBe(true);
    });

    it("a solver reply equals the in-process search with the same settings (best-of-N, request overrides)", async () => {
        const problem = problems[3]!;
        // one sample: concurrent requests on the llama.cpp backend are not reproducible yet (issue 8 item 1)
        const reply = await client.chat.completions.create({ model: "rstar-bon-8", messages: [{ role: "user", content: problem.question }], seed: 5, rstar: { samples: 1, temperature: 0.5 } } as never);
        const settings = { ...defaultSolverModels(true)["rstar-bon-8"]!, samples: 1, temperature: 0.5, seed: 5 };
        const direct = await solveProblem({ index: 0, question: problem.question, gold: null }, settings, services);
        expect(audit(reply).answer).toBe(direct.selected?.answer ?? null);
        expect(audit(reply).value).toBe(direct.selected?.value ?? null);
        expect(audit(reply).tag).toBe(direct.selected?.tag ?? null);
        expect(Object.values(audit(reply).votes).reduce((sum, count) => sum + count, 0)).toBe(direct.terminalAnswers.length);
        expect(audit(reply).counters.rollouts).toBe(1);
        expect(audit(reply).counters.requests).toBe(direct.counters.requests);
    }, 60_000);

    it("a search through this server's completions API (as rstar search --policy-url does) equals one in process", async () => {
        // greedy: one sequence at a time (n > 1 on the llama.cpp backend is not reproducible yet, issue 8 item 1)
        const problem = problems[5]!;
        const settings = defaultSolverModels(true)["rstar-greedy"]!;
        const remote = new OpenAiCompatibleBackend({ baseURL: server.baseURL, model: "model", maxRetries: 0 });
        try {
            const viaHttp = await solveProblem({ index: 0, question: problem.question, gold: problem.answer }, settings, { ...services, policy: remote });
            const inProcess = await solveProblem({ index: 0, question: problem.question, gold: problem.answer }, settings, services);
            expect(toOfficialStates(viaHttp.root, problem.question)).toEqual(toOfficialStates(inProcess.root, problem.question));
            expect(viaHttp.selected).toEqual(inProcess.selected);
            expect(viaHttp.counters.nodes).toBeGreaterThan(2);
            expect(viaHttp.correct).toBe(true);
            expect(viaHttp.counters.requests).toBe(inProcess.counters.requests);
        } finally {
            await remote.dispose();
        }
    }, 60_000);

    it("streams MCTS progress as reasoning, then the answer; limits and a disconnect stop the search", async () => {
        const problem = problems[3]!;
        const stream = await client.chat.completions.create({
            model: "rstar-mcts",
            messages: [{ role: "user", content: problem.question }],
            stream: true,
            stream_options: { include_usage: true },
            rstar: { rollouts: 2, candidates: 2 },
        } as never);
        let reasoning = "";
        let content = "";
        let final: Audit | undefined;
        for await (const chunk of stream as unknown as AsyncIterable<OpenAI.Chat.ChatCompletionChunk & { rstar?: Audit }>) {
            const delta = chunk.choices[0]?.delta as { content?: string; reasoning_content?: string } | undefined;
            reasoning += delta?.reasoning_content ?? "";
            content += delta?.content ?? "";
            if (chunk.rstar !== undefined) final = chunk.rstar;
        }
        expect(reasoning).toBe("rollout 1 done\nrollout 2 done\n");
        expect(final?.counters.rollouts).toBe(2);
        if (final?.answer !== null) expect(content).toContain("<answer>");

        await expect(client.chat.completions.create({ model: "rstar-mcts", messages: [{ role: "user", content: problem.question }], rstar: { rollouts: 21 } } as never)).rejects.toBeInstanceOf(BadRequestError);

        const before = server.stats();
        const controller = new AbortController();
        const long = await client.chat.completions.create(
            { model: "rstar-mcts", messages: [{ role: "user", content: problem.question }], stream: true, rstar: { rollouts: 20, candidates: 4 } } as never,
            { signal: controller.signal },
        );
        let progress = 0;
        for await (const chunk of long as unknown as AsyncIterable<OpenAI.Chat.ChatCompletionChunk>) {
            if ((chunk.choices[0]?.delta as { reasoning_content?: string } | undefined)?.reasoning_content !== undefined) {
                progress += 1;
                // one solver request at a time on this server: a second one is refused while the first runs
                await expect(client.chat.completions.create({ model: "rstar-greedy", messages: [{ role: "user", content: problem.question }] })).rejects.toBeInstanceOf(RateLimitError);
                controller.abort();
            }
        }
        expect(progress).toBe(1);
        await vi.waitFor(() => expect(server.stats()).toMatchObject({ inFlight: 0, aborted: before.aborted + 1 }), { timeout: 10_000 });
        // the search stopped: a new solver request is accepted again
        const after = await client.chat.completions.create({ model: "rstar-greedy", messages: [{ role: "user", content: problems[5]!.question }] });
        expect(audit(after).answer).toBe(problems[5]!.answer);
    }, 120_000);

    it("rstar serve --solvers serves them from the command line, and SIGTERM stops it", async () => {
        const child = spawnRstar(["serve", "--policy", SHIPPED_POLICY, "--ppm", SHIPPED_PPM_DIR, "--solvers", "--no-store", "--sandbox-workers", "1", "--port", "0", "--threads", "1"], "source");
        const done = collect(child);
        try {
            const baseURL = await firstLine(child);
            const cli = new OpenAI({ baseURL, apiKey: "unused", maxRetries: 0 });
            expect((await cli.models.list()).data.map((model) => model.id)).toEqual(["model", "ppm", "rstar-greedy", "rstar-bon-8", "rstar-mcts"]);
            const problem = problems[5]!;
            const reply = await cli.chat.completions.create({ model: "rstar-greedy", messages: [{ role: "user", content: problem.question }] });
            expect(audit(reply).answer).toBe(problem.answer);
            expect((reply as unknown as { rstar: { run: unknown } }).rstar.run).toBeNull(); // --no-store
        } finally {
            child.kill("SIGTERM");
        }
        expect((await done).code).toBe(0);
    }, 120_000);
});
