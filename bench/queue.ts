import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadDataset, type DatasetProblem } from "../src/data/index.js";
import type { LlmBackend } from "../src/llm/index.js";
import { parseQueueUrl, runQueueSearch, startQueueWorker, type QueueWorker } from "../src/queue/index.js";
import { runSearch } from "../src/runs/index.js";
import type { SearchSettings } from "../src/search/index.js";
import { startRedisServer } from "../test/support/redis-server.js";
import type { BenchModule, BenchRow } from "./harness.js";
import { bootstrapSettings, goldProblems, latencyBackend, numericJudge, variableExecutor } from "./search.js";

const PROBLEMS = Number(process.env["RSTAR_BENCH_QUEUE_PROBLEMS"] ?? 32);
/** Problems searched at once by the single process and by each worker: one GPU host's share. */
const CONCURRENCY = 4;

async function writeDataset(dir: string): Promise<{ path: string; problems: DatasetProblem[] }> {
    mkdirSync(dir, { recursive: true });
    const path = join(dir, "problems.jsonl");
    writeFileSync(path, goldProblems(PROBLEMS).map((problem) => JSON.stringify({ id: `p${problem.index}`, question: problem.question, answer: problem.gold })).join("\n") + "\n");
    return { path, problems: await loadDataset(path) };
}

async function singleProcess(dir: string, settings: SearchSettings, serviceMs: number, perTokenMs: number): Promise<number> {
    const { path, problems } = await writeDataset(dir);
    const start = performance.now();
    await runSearch({
        dir: join(dir, "single"), resume: false, datasetPath: path, problems, settings, preset: "bootstrap",
        services: { policy: latencyBackend(serviceMs, perTokenMs) as unknown as LlmBackend, executor: variableExecutor, judge: numericJudge },
        concurrency: CONCURRENCY, versions: {},
    });
    return (performance.now() - start) / 1000;
}

/** A queue run with `workers` workers in this process, each with its own simulated server (one GPU host each). */
async function queueRun(dir: string, url: string, workers: number, settings: SearchSettings, serviceMs: number, perTokenMs: number): Promise<number> {
    const { path, problems } = await writeDataset(dir);
    const connection = parseQueueUrl(url);
    const started: QueueWorker[] = [];
    for (let index = 0; index < workers; index += 1) {
        const policy = latencyBackend(serviceMs, perTokenMs) as unknown as LlmBackend;
        started.push(await startQueueWorker({
            connection, concurrency: CONCURRENCY, discoverMs: 100, log: () => undefined,
            openServices: async () => ({ policy, executor: variableExecutor, judge: numericJudge, close: async () => undefined }),
        }));
    }
    try {
        const start = performance.now();
        await runQueueSearch({
            dir: join(dir, `queue-${workers}`), resume: false, datasetPath: path, problems, settings, preset: "bootstrap",
            connection, model: "simulated-policy", rewardModel: null, versions: {}, pollMs: 50,
        });
        return (performance.now() - start) / 1000;
    } finally {
        await Promise.all(started.map((worker) => worker.close()));
    }
}

export const queueBench: BenchModule = {
    title: "queue: distributed runs (rstar worker) vs one process",
    async run() {
        const redis = await startRedisServer();
        const dir = mkdtempSync(join(tmpdir(), "rstar-bench-queue-"));
        const settings: SearchSettings = { ...bootstrapSettings(), rollouts: 4 };
        const rows: BenchRow[] = [];
        try {
            const single = await singleProcess(join(dir, "latency"), settings, 50, 15);
            rows.push({ name: `single process, ${CONCURRENCY} problems at once, one server`, value: PROBLEMS / single, unit: "problems/s" });
            let oneWorker = single;
            for (const workers of [1, 2, 4]) {
                const seconds = await queueRun(join(dir, `latency-${workers}`), redis.url, workers, settings, 50, 15);
                if (workers === 1) oneWorker = seconds;
                rows.push({ name: `queue, ${workers} worker(s) x ${CONCURRENCY} problems, one server each`, value: PROBLEMS / seconds, unit: "problems/s", ratio: { value: single / seconds, against: "single process" } });
            }
            // Overhead: one worker does the single process's work through the queue; the difference is the queue's.
            rows.push({ name: "queue overhead per problem (1 worker vs one process)", value: ((oneWorker - single) * 1000) / PROBLEMS, unit: "ms/problem (wall)" });
        } finally {
            await redis.close();
            rmSync(dir, { recursive: true, force: true });
        }
        return {
            title: "queue: distributed runs (rstar worker) vs one process",
            rows,
            notes: [
                `${PROBLEMS} simulated problems (RSTAR_BENCH_QUEUE_PROBLEMS), preset bootstrap with 4 rollouts (sft prompt template); simulated server 50 ms + 15 ms/token, 256 slots; code steps 1-16 ms (no sandbox)`,
                "workers run in this process (one event loop on this machine's cores), each with its own simulated server, as one vLLM per GPU host; the coordinator collects from a real redis-server on loopback (AOF on)",
                "overhead row: (1 worker - single process) wall time / problems, same server and concurrency; the coordinator polls every 50 ms; it includes the worker finding the run and the last poll",
            ],
        };
    },
};
