import { MockLlmBackend, type GenerateRequest, type GenerateResult, type LlmBackend } from "../src/llm/index.js";
import { BASE_SETTINGS, solveProblem, type AnswerJudge, type SearchSettings, type StepExecutor } from "../src/search/index.js";
import { simulateCompletion } from "../test/support/simulated-policy.js";
import type { BenchModule, BenchRow } from "./harness.js";

/** An in-process simulated policy (no HTTP): the same sampler the test server uses. */
function simulatedBackend(options: { stepCorrectProbability: number; codeErrorProbability: number }): LlmBackend {
    return new MockLlmBackend({
        script: (request) => {
            const sim = simulateCompletion(request.prompt, request, options);
            return {
                completions: sim.choices.map((choice) => ({ text: choice.text, stop: choice.stop, finishReason: choice.finishReason })),
                usage: { promptTokens: sim.promptTokens, completionTokens: 0, totalTokens: sim.promptTokens },
            };
        },
    });
}

/** Serves at most `capacity` requests at once, each taking `serviceMs`: a model server with fixed batch capacity. */
class FixedServiceTimeBackend {
    private busy = 0;
    private readonly queue: (() => void)[] = [];
    constructor(
        private readonly inner: LlmBackend,
        private readonly serviceMs: number,
        private readonly capacity: number,
    ) {}
    async generate(request: GenerateRequest): Promise<GenerateResult> {
        if (this.busy >= this.capacity) await new Promise<void>((resolve) => this.queue.push(resolve));
        this.busy += 1;
        try {
            await new Promise((resolve) => setTimeout(resolve, this.serviceMs));
            return await this.inner.generate(request);
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
const variableExecutor: StepExecutor = {
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
