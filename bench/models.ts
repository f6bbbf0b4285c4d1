import { availableParallelism } from "node:os";
import { locateShippedModels } from "../src/demo/index.js";
import { createGrader } from "../src/grading/index.js";
import { LlamaCppBackend, defaultThreadCount } from "../src/llm/index.js";
import { LlamaCppPpm } from "../src/reward/index.js";
import { loadDataset } from "../src/data/index.js";
import { createSandbox } from "../src/sandbox/index.js";
import { PRESETS, solveProblem } from "../src/search/index.js";
import { STEP_STOPS, sftPrompt } from "../src/steps/index.js";
import type { BenchModule, BenchRow } from "./harness.js";

/** The shipped tiny models on this machine: policy tokens/s (1 and n sequences), PPM scores/s, MCTS problems/min. */
export const modelsBench: BenchModule = {
    title: "shipped models: llama.cpp policy and PPM, MCTS with them",
    async run() {
        const models = locateShippedModels();
        const threads = defaultThreadCount();
        const problems = (await loadDataset(models.heldOut.test)).slice(0, 6);
        const rows: BenchRow[] = [];
        const prompt = sftPrompt(problems[0]!.question);

        for (const n of [1, 4, 8]) {
            const policy = new LlamaCppBackend({ modelPath: models.policy, threads, sequences: n, contextSize: 1024 });
            try {
                await policy.generate({ prompt, n, temperature: 1, topP: 1, maxTokens: 8, stop: [], seed: 1 });
                let tokens = 0;
                const started = performance.now();
                for (let call = 0; call < 3; call += 1) {
                    const result = await policy.generate({ prompt, n, temperature: 1, topP: 1, maxTokens: 128, stop: [], seed: call });
                    tokens += result.usage?.completionTokens ?? 0;
                }
                const rate = (tokens * 1000) / (performance.now() - started);
                const row: BenchRow = { name: `policy, ${n} sequence${n > 1 ? "s" : ""} in parallel`, value: rate, unit: "tokens/s (all sequences)" };
                const single = rows.find((r) => r.name.startsWith("policy, 1 "));
                if (single) row.ratio = { value: rate / single.value, against: "1 sequence" };
                rows.push(row);
            } finally {
                await policy.dispose();
            }
        }

        const ppm = await LlamaCppPpm.fromDirectory(models.ppm, { threads, contextSize: 1024 });
        try {
            const items = problems.map((problem) => ({ question: problem.question, partialSolution: "<code>\n# Step 1: start\nx = 1\n<end_of_step>" }));
            await ppm.score(items.slice(0, 1));
            const started = performance.now();
            await ppm.score(items);
            await ppm.score(items);
            rows.push({ name: "PPM scores", value: (items.length * 2 * 1000) / (performance.now() - started), unit: "partial solutions/s" });
        } finally {
            await ppm.dispose();
        }

        const policy = new LlamaCppBackend({ modelPath: models.policy, threads, sequences: 4, contextSize: 1024 });
        const reward = await LlamaCppPpm.fromDirectory(models.ppm, { threads, contextSize: 1024 });
        const sandbox = await createSandbox({ workers: 1 });
        const grader = createGrader();
        try {
            const settings = { ...PRESETS["eval-mcts"]!.settings, rollouts: 8, candidates: 4, maxTokens: 256, stop: [...STEP_STOPS] };
            const started = performance.now();
            await Promise.all(problems.map((problem) => solveProblem({ index: problem.position, question: problem.question, gold: problem.answer }, settings, { policy, executor: sandbox, judge: grader, rewardModel: reward })));
            rows.push({ name: "MCTS + PPM (8 rollouts x 4 candidates)", value: (problems.length * 60_000) / (performance.now() - started), unit: "problems/min" });
        } finally {
            await Promise.allSettled([policy.dispose(), reward.dispose(), sandbox.dispose(), grader.dispose()]);
        }
        return {
            title: "shipped models: llama.cpp policy and PPM, MCTS with them",
            rows,
            notes: [`llama.cpp threads ${threads} of ${availableParallelism()} cores; models ${models.dir}; ${problems.length} held-out test problems`],
        };
    },
};
