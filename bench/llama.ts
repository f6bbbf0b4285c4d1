import { availableParallelism } from "node:os";
import { loadDataset } from "../src/data/index.js";
import { LlamaCppBackend, defaultParallelSequences, defaultThreadCount, type GenerateRequest, type LlmBackend } from "../src/llm/index.js";
import { STEP_STOPS, sftPrompt } from "../src/steps/index.js";
import type { BenchModule, BenchRow } from "./harness.js";
import { SharedContextBackend } from "./llama-shared-context.js";

const MODEL = "models/policy/model.gguf";
const PROBLEMS = 12;
const N = 4;
const ROUNDS = 2;

/**
 * The in-process llama.cpp policy, old design against new, side by side in one run on the shipped policy: 12 requests
 * (held-out problems, 4 samples each, temperature 1, fixed seeds) all in flight at once. Rows: tokens/s of each design
 * (rounds interleaved, so CPU load from elsewhere hits both alike), and how many completions differ from the same
 * requests made one at a time — the old shared context is fast or slow but not reproducible; one context per
 * sequence must show 0.
 */
export const llamaBench: BenchModule = {
    title: "policy designs: one shared llama.cpp context (old) vs one context per sequence",
    async run() {
        const threads = defaultThreadCount();
        const problems = (await loadDataset("models/heldout/test.jsonl")).slice(0, PROBLEMS);
        const requests: GenerateRequest[] = problems.map((problem, index) => ({
            prompt: sftPrompt(problem.question),
            n: N,
            temperature: 1,
            topP: 1,
            maxTokens: 96,
            stop: [...STEP_STOPS],
            seed: 1000 + index,
        }));
        const designs: { name: string; create: () => LlmBackend & { load(): Promise<void> } }[] = [
            { name: "old: 1 context, 8 sequences (old default)", create: () => new SharedContextBackend({ modelPath: MODEL, threads, contextSize: 1024, sequences: 8 }) },
            { name: `new: ${defaultParallelSequences(threads)} contexts x 1 sequence (default)`, create: () => new LlamaCppBackend({ modelPath: MODEL, threads, contextSize: 1024 }) },
            { name: "new: 4 contexts x 1 sequence", create: () => new LlamaCppBackend({ modelPath: MODEL, threads, contextSize: 1024, sequences: 4 }) },
        ];
        const tokens = designs.map(() => 0);
        const seconds = designs.map(() => 0);
        const differing = designs.map(() => 0);
        // the same requests one at a time on the new design: the reference every design is compared with
        const reference: string[][] = [];
        const single = new LlamaCppBackend({ modelPath: MODEL, threads, contextSize: 1024, sequences: 1 });
        try {
            for (const request of requests) reference.push((await single.generate(request)).completions.map((c) => c.text));
        } finally {
            await single.dispose();
        }
        for (let round = 0; round < ROUNDS; round += 1) {
            for (const [d, design] of designs.entries()) {
                const backend = design.create();
                try {
                    await backend.load();
                    const started = performance.now();
                    const results = await Promise.all(requests.map((request) => backend.generate(request)));
                    seconds[d]! += (performance.now() - started) / 1000;
                    for (const [r, result] of results.entries()) {
                        tokens[d]! += result.usage?.completionTokens ?? 0;
                        result.completions.forEach((completion, i) => {
                            if (completion.text !== reference[r]?.[i]) differing[d]! += 1;
                        });
                    }
                } finally {
                    await backend.dispose();
                }
            }
        }
        const rows: BenchRow[] = [];
        const baseline = tokens[0]! / seconds[0]!;
        for (const [d, design] of designs.entries()) {
            const rate = tokens[d]! / seconds[d]!;
            rows.push({ name: design.name, value: rate, unit: "tokens/s", ...(d === 0 ? {} : { ratio: { value: rate / baseline, against: "old" } }) });
        }
        for (const [d, design] of designs.entries()) {
            rows.push({ name: `${design.name.split(" (")[0]}: completions != one at a time`, value: differing[d]!, unit: `of ${ROUNDS * PROBLEMS * N}` });
        }
        return {
            title: this.title,
            rows,
            notes: [
                `${PROBLEMS} held-out prompts x ${N} samples (temperature 1, fixed seeds, <= 96 tokens) all in flight; ${threads} thread(s) per context, ${availableParallelism()} CPUs; ${ROUNDS} interleaved rounds`,
            ],
        };
    },
};
