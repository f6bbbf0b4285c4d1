import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadDataset } from "../src/data/index.js";
import { MockLlmBackend, type GenerateRequest, type GenerateResult, type LlmBackend } from "../src/llm/index.js";
import { AdaptiveConcurrency, runSearch } from "../src/runs/index.js";
import { BASE_SETTINGS, PRESETS, solveProblem, type AnswerJudge, type ProblemOutcome, type SearchSettings, type StepExecutor } from "../src/search/index.js";
import { countTokens, simulateCompletion, solveQuestion } from "../test/support/simulated-policy.js";
import type { BenchModule, BenchRow } from "./harness.js";
import { officialSolverRows } from "./official-solver.js";

/** An in-process simulated policy (no HTTP): the same sampler the test server uses. */
function simulatedBackend(options: { stepCorrectProbability: number; codeErrorProbability: number }): LlmBackend {
    return new MockLlmBackend({
        script: (request) => {
            const sim = simulateCompletion(request.prompt, request, options);
            return {
                completions: sim.choices.map((choice) => ({ text: choice.text, stop: choice.stop, finishReason: choice.finishReason })),
                usage: { promptTokens: sim.promptTokens, completionTokens: Math.max(0, ...sim.choices.map((choice) => choice.completionTokens)), totalTokens: sim.promptTokens },
            };
        },
    });
}

/**
 * Serves at most `capacity` requests at once, each taking `serviceMs` plus `perTokenMs` per token of its longest
 * completion (its n samples decode as one batch): a model server with fixed batch capacity.
 */
class FixedServiceTimeBackend {
    readonly id = "simulated-server";
    readonly model = "simulated-policy";
    private busy = 0;
    private readonly queue: (() => void)[] = [];
    constructor(
        private readonly inner: LlmBackend,
        private readonly serviceMs: number,
        private readonly capacity: number,
        private readonly perTokenMs = 0,
    ) {}
    async generate(request: GenerateRequest): Promise<GenerateResult> {
        if (this.busy >= this.capacity) await new Promise<void>((resolve) => this.queue.push(resolve));
        this.busy += 1;
        try {
            const result = await this.inner.generate(request);
            const tokens = Math.max(0, ...result.completions.map((completion) => countTokens(completion.text)));
            const delay = this.serviceMs + this.perTokenMs * tokens;
            if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
            return result;
        } finally {
            this.busy -= 1;
            this.queue.shift()?.();
        }
    }
}

/**
 * A re-implementation (not the official code, which needs vLLM and GPUs) of the official solver's schedule:
 * `Solver.solve` in rstar_deepthink/solver.py (branch rStar-math) runs `for step in range(max_depth)` over all
 * problems, sending one batched `llm(prompts)` call per depth, so every problem takes one step and then all wait until
 * every problem's request is answered before anyone takes the next. Here: a backend wrapper that holds requests until
 * every active problem has one pending, in front of the same simulated server as the asynchronous row.
 */
class BarrierBackend {
    active = 0;
    private pending: { request: GenerateRequest; resolve: (r: GenerateResult) => void; reject: (e: unknown) => void }[] = [];
    constructor(private readonly inner: FixedServiceTimeBackend) {}
    generate(request: GenerateRequest): Promise<GenerateResult> {
        return new Promise((resolve, reject) => {
            this.pending.push({ request, resolve, reject });
            this.release();
        });
    }
    problemDone(): void {
        this.active -= 1;
        this.release();
    }
    private release(): void {
        if (this.pending.length === 0 || this.pending.length < this.active) return;
        const batch = this.pending;
        this.pending = [];
        void Promise.all(batch.map(async (item) => this.inner.generate(item.request).then(item.resolve, item.reject)));
    }
}

const fastExecutor: StepExecutor = { async run() { return { ok: true, observation: "" }; } };

/** Code execution that takes 1-16 ms depending on the program (deterministic), like real sandboxed steps with sympy. */
export const variableExecutor: StepExecutor = {
    async run(code) {
        let hash = 0;
        for (let index = 0; index < code.length; index += 1) hash = (hash * 31 + code.charCodeAt(index)) >>> 0;
        await new Promise((resolve) => setTimeout(resolve, 1 + (hash % 16)));
        return { ok: true, observation: "" };
    },
};
const judge: AnswerJudge = { async equal(gold, pred) { return gold === pred; } };

function problems(count: number) {
    // Mixed sizes: 1 to 6 operations, so some trees finish much earlier than others.
    return Array.from({ length: count }, (_, index) => {
        const terms = 2 + (index % 6);
        const question = `Compute ${Array.from({ length: terms }, (_, k) => String(2 + ((index + k) % 7))).join(k(index))}.`;
        return { index, question, gold: null };
    });
    function k(index: number) {
        return index % 2 === 0 ? " + " : " * ";
    }
}

const settings: SearchSettings = { ...BASE_SETTINGS, rollouts: 4, candidates: 4, errorThreshold: 2, terminalReward: "none" };

async function orchestratorOverhead(): Promise<BenchRow[]> {
    const backend = simulatedBackend({ stepCorrectProbability: 0.7, codeErrorProbability: 0.1 });
    const set = problems(40);
    const cpuBefore = process.cpuUsage();
    const wallBefore = performance.now();
    let nodes = 0;
    for (const problem of set) nodes += (await solveProblem(problem, settings, { policy: backend, executor: fastExecutor, judge })).counters.nodes;
    const cpu = process.cpuUsage(cpuBefore);
    const wall = performance.now() - wallBefore;
    const cpuMsPerNode = (cpu.user + cpu.system) / 1000 / nodes;
    return [
        { name: "orchestrator CPU per node (zero-latency policy)", value: cpuMsPerNode * 1000, unit: "µs/node (incl. simulated policy)" },
        { name: "nodes per second, one problem at a time", value: (nodes * 1000) / wall, unit: "nodes/s" },
    ];
}

async function schedules(serviceMs: number, capacity: number, count: number): Promise<BenchRow[]> {
    const set = problems(count);
    const inner = () => new FixedServiceTimeBackend(simulatedBackend({ stepCorrectProbability: 0.7, codeErrorProbability: 0.1 }), serviceMs, capacity);

    const asyncBackend = inner();
    let start = performance.now();
    await Promise.all(set.map((problem) => solveProblem(problem, settings, { policy: asyncBackend as unknown as LlmBackend, executor: variableExecutor, judge })));
    const asyncMs = performance.now() - start;

    const barrier = new BarrierBackend(inner());
    barrier.active = set.length;
    start = performance.now();
    await Promise.all(
        set.map(async (problem) => {
            try {
                await solveProblem(problem, settings, { policy: barrier as unknown as LlmBackend, executor: variableExecutor, judge });
            } finally {
                barrier.problemDone();
            }
        }),
    );
    const barrierMs = performance.now() - start;
    return [
        { name: `per-depth barrier (re-implementation of the official schedule), capacity ${capacity}`, value: barrierMs / 1000, unit: "s wall" },
        { name: `asynchronous (ours), capacity ${capacity}`, value: asyncMs / 1000, unit: "s wall", ratio: { value: barrierMs / asyncMs, against: "barrier (speed-up)" } },
    ];
}

// ---------------------------------------------------------------------------------------------------------------
// Ours with default settings (`rstar search`: runSearch with adaptive concurrency) against the per-depth-barrier
// re-implementation of the official schedule, on the same simulated server, preset bootstrap.

export const numericJudge: AnswerJudge = { async equal(gold, pred) { return [gold].flat().some((g) => Number(g) === Number(pred)); } };

export function goldProblems(count: number) {
    return problems(count).map((problem) => ({ ...problem, gold: String(solveQuestion(problem.question)) }));
}

interface Score { passAny: number; majority: number }

/** pass@any, and pass@1 of a majority vote over the terminal answers (which, unlike bootstrap's selection, does not see the gold answer). */
function score(outcomes: ProblemOutcome[]): Score {
    let passAny = 0;
    let majority = 0;
    for (const outcome of outcomes) {
        if (outcome.passAny) passAny += 1;
        const votes = new Map<string, { count: number; correct: boolean }>();
        for (const terminal of outcome.terminalAnswers) {
            const entry = votes.get(terminal.answer) ?? { count: 0, correct: terminal.correct === true };
            entry.count += 1;
            votes.set(terminal.answer, entry);
        }
        const best = [...votes.values()].sort((a, b) => b.count - a.count)[0];
        if (best?.correct) majority += 1;
    }
    return { passAny: passAny / outcomes.length, majority: majority / outcomes.length };
}

/** Preset bootstrap's search settings with the sft prompt template, the one the simulated policy reads. */
export function bootstrapSettings(): SearchSettings {
    const preset = PRESETS["bootstrap"]!.settings;
    return { ...preset, prompt: "sft", stop: [...preset.stop] };
}

export function latencyBackend(serviceMs: number, perTokenMs: number) {
    return new FixedServiceTimeBackend(simulatedBackend({ stepCorrectProbability: 0.5, codeErrorProbability: 0.2 }), serviceMs, 256, perTokenMs);
}

/** The per-depth barrier schedule: every problem in flight, one batch per step. */
async function barrierRun(set: ReturnType<typeof goldProblems>, settings: SearchSettings, serviceMs: number, perTokenMs: number) {
    const barrier = new BarrierBackend(latencyBackend(serviceMs, perTokenMs));
    barrier.active = set.length;
    const start = performance.now();
    const outcomes = await Promise.all(
        set.map(async (problem) => {
            try {
                return await solveProblem(problem, settings, { policy: barrier as unknown as LlmBackend, executor: variableExecutor, judge: numericJudge });
            } finally {
                barrier.problemDone();
            }
        }),
    );
    return { seconds: (performance.now() - start) / 1000, ...score(outcomes) };
}

/** `rstar search` with its defaults: runSearch (run directory, SQLite store) with adaptive concurrency from 8, at most 256 (the CLI defaults). */
async function oursRun(set: ReturnType<typeof goldProblems>, settings: SearchSettings, serviceMs: number, perTokenMs: number, concurrency?: number) {
    const dir = mkdtempSync(join(tmpdir(), "rstar-bench-search-"));
    try {
        const datasetPath = join(dir, "problems.jsonl");
        writeFileSync(datasetPath, set.map((problem) => JSON.stringify({ question: problem.question, answer: problem.gold })).join("\n") + "\n");
        const dataset = await loadDataset(datasetPath);
        const policy = latencyBackend(serviceMs, perTokenMs) as unknown as LlmBackend;
        const adaptive = new AdaptiveConcurrency({ initial: 8, max: 256 });
        const start = performance.now();
        await runSearch({
            dir: join(dir, "run"), resume: false, datasetPath, problems: dataset, settings, preset: "bootstrap",
            services: { policy, executor: variableExecutor, judge: numericJudge },
            concurrency: concurrency ?? adaptive, versions: {},
            onProgress: () => undefined,
        });
        const seconds = (performance.now() - start) / 1000;
        const results = readFileSync(join(dir, "run", "results.jsonl"), "utf8").trim().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
        return { seconds, passAny: results.filter((r) => r["pass_any"] === true).length / results.length, limit: concurrency ?? adaptive.limit };
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
}

export const officialScheduleBench: BenchModule = {
    title: "search: ours (defaults) vs the official schedule",
    async run() {
        const large = process.argv.includes("--large");
        const officialIndex = process.argv.indexOf("--official");
        const official = officialIndex >= 0 ? process.argv[officialIndex + 1] : process.env["RSTAR_OFFICIAL_REPO"];
        const settings = bootstrapSettings();
        const rows: BenchRow[] = [];
        const notes: string[] = [];
        if (official !== undefined) {
            if (!existsSync(join(official, "rstar_deepthink", "solver.py"))) throw new Error(`--official ${official}: no rstar_deepthink/solver.py there (an export of microsoft/rStar, branch rStar-math)`);
            const comparison = await officialSolverRows(official, large ? [20, 200] : [20]);
            rows.push(...comparison.rows);
            notes.push(...comparison.notes);
        }
        for (const count of large ? [20, 200] : [20]) {
            for (const [serviceMs, perTokenMs, label] of [[0, 0, "zero latency"], [50, 15, "50 ms + 15 ms/token"]] as const) {
                const set = goldProblems(count);
                const barrier = await barrierRun(set, settings, serviceMs, perTokenMs);
                const ours = await oursRun(set, settings, serviceMs, perTokenMs);
                rows.push({ name: `${count} problems, ${label}: per-depth barrier (re-implementation), pass@any ${barrier.passAny.toFixed(3)}`, value: barrier.seconds, unit: "s wall" });
                rows.push({ name: `${count} problems, ${label}: ours, defaults (adaptive, ended at ${ours.limit}), pass@any ${ours.passAny.toFixed(3)}`, value: ours.seconds, unit: "s wall", ratio: { value: barrier.seconds / ours.seconds, against: "barrier (speed-up)" } });
                // Best setting found: 4 rollouts of a tree in flight (virtual loss). It changes the trees (see docs/search.md).
                const parallel = await oursRun(set, { ...settings, parallelRollouts: 4 }, serviceMs, perTokenMs);
                rows.push({ name: `${count} problems, ${label}: ours, --parallel-rollouts 4 (other trees), pass@any ${parallel.passAny.toFixed(3)}`, value: parallel.seconds, unit: "s wall", ratio: { value: barrier.seconds / parallel.seconds, against: "barrier (speed-up)" } });
            }
        }
        return {
            title: "search: ours (defaults) vs the official schedule",
            rows,
            notes: [
                ...notes,
                "barrier rows: preset bootstrap (MCTS, 8 rollouts x 12 candidates, ground-truth terminal reward) with the sft prompt template (the one the simulated policy reads); simulated policy (step correct p=0.5, code error p=0.2) in process behind a server model with 256 slots; code steps take 1-16 ms (no sandbox)",
                "per-depth barrier: our re-implementation of the official solver's scheduling (rstar_deepthink/solver.py: one batched request per depth for all problems), running our search; not the official code",
                official === undefined
                    ? "the official solver itself is not run: pass --official DIR (or RSTAR_OFFICIAL_REPO), an export of microsoft/rStar branch rStar-math, with its Python dependencies (bench/official-solver.py)"
                    : "the official solver rows come first",
                large ? "200 problems included (--large)" : "add --large for 200 problems (slow under latency)",
            ],
        };
    },
};

/** Whether virtual loss (parallel rollouts within a tree) changes what the search finds: 200 problems, zero latency. */
export const virtualLossBench: BenchModule = {
    title: "search: virtual loss accuracy",
    async run() {
        const set = goldProblems(200);
        const base = bootstrapSettings();
        const rows: BenchRow[] = [];
        let sequential: { seconds: number } | undefined;
        for (const parallelRollouts of [1, 2, 4, 8]) {
            const settings = { ...base, parallelRollouts };
            const backend = latencyBackend(0, 0) as unknown as LlmBackend;
            const start = performance.now();
            const outcomes = await Promise.all(set.map((problem) => solveProblem(problem, settings, { policy: backend, executor: variableExecutor, judge: numericJudge })));
            const seconds = (performance.now() - start) / 1000;
            const { passAny, majority } = score(outcomes);
            sequential ??= { seconds };
            rows.push({
                name: `--parallel-rollouts ${parallelRollouts} (virtual loss ${settings.virtualLoss}): pass@any ${passAny.toFixed(3)}, majority pass@1 ${majority.toFixed(3)}, nodes ${outcomes.reduce((sum, outcome) => sum + outcome.counters.nodes, 0)}`,
                value: seconds,
                unit: "s wall",
                ratio: { value: sequential.seconds / seconds, against: "sequential" },
            });
        }
        return {
            title: "search: virtual loss accuracy",
            rows,
            notes: ["preset bootstrap (sft prompt template) on 200 simulated problems (step correct p=0.5, code error p=0.2), all problems in flight, zero-latency policy in process, code steps 1-16 ms; majority pass@1: the most frequent terminal answer (does not see the gold answer)"],
        };
    },
};

export const searchBench: BenchModule = {
    title: "search: orchestrator overhead and schedules",
    async run() {
        const rows = [...(await orchestratorOverhead()), ...(await schedules(20, 8, 32)), ...(await schedules(20, 64, 32))];
        return {
            title: "search: orchestrator overhead and schedules",
            rows,
            notes: [
                "MCTS, 4 rollouts x 4 candidates, simulated policy in process (no HTTP); overhead rows: instant code execution",
                "schedules: a server answering at most 8 (then 64) requests at once, 20 ms each; code steps take 1-16 ms; all 32 problems in flight",
                "per-depth barrier: our re-implementation of the official solver's scheduling (one batched request per depth for all problems, as in rstar_deepthink/solver.py), not the official code; both schedules run our search on the same simulated server",
            ],
        };
    },
};
