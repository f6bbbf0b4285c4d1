import { loadDataset } from "../src/data/index.js";
import { LlamaCppBackend, defaultThreadCount, getSharedLlama, type GpuChoice } from "../src/llm/index.js";
import { STEP_STOPS, sftPrompt } from "../src/steps/index.js";
import type { BenchModule, BenchRow } from "./harness.js";

const MODEL = "models/policy/model.gguf";
const PROBLEMS = 8;

/** Greedy decode of the first held-out problems' first step, one request at a time, on one placement. */
async function decode(gpu: GpuChoice, prompts: string[]): Promise<{ texts: string[]; rate: number; layers: number }> {
    const backend = new LlamaCppBackend({ modelPath: MODEL, threads: defaultThreadCount(), sequences: 1, contextSize: 1024, gpu, gpuLayers: gpu === "off" ? 0 : "max" });
    try {
        const { gpuLayers } = await backend.describe();
        const request = (prompt: string) => ({ prompt, n: 1, temperature: 0, topP: 1, maxTokens: 128, stop: [...STEP_STOPS], seed: 1 });
        await backend.generate(request(prompts[0] as string)); // warm-up
        const texts: string[] = [];
        let tokens = 0;
        const started = performance.now();
        for (const prompt of prompts) {
            const result = await backend.generate(request(prompt));
            texts.push(result.completions[0]?.text ?? "");
            tokens += result.usage?.completionTokens ?? 0;
        }
        return { texts, rate: tokens / ((performance.now() - started) / 1000), layers: gpuLayers };
    } finally {
        await backend.dispose();
    }
}

/**
 * The tiny policy's greedy decode (one sequence, 8 prompts, up to 128 tokens each) on the CPU and, where
 * node-llama-cpp finds a usable GPU, with every layer on it: tokens/s of each, and how many of the 8 completions
 * differ between them (test/llm/gpu.test.ts asserts 0 where a GPU exists).
 */
export const gpuBench: BenchModule = {
    title: "llama.cpp placement: tiny policy greedy decode, CPU vs GPU",
    async run() {
        const prompts = (await loadDataset("models/heldout/test.jsonl")).slice(0, PROBLEMS).map((problem) => sftPrompt(problem.question));
        const gpu = await getSharedLlama("auto").then((llama) => llama.gpu, () => false as const);
        const cpu = await decode("off", prompts);
        const rows: BenchRow[] = [{ name: `CPU, ${defaultThreadCount()} thread(s)`, value: cpu.rate, unit: "tokens/s" }];
        const notes: string[] = [];
        if (gpu === false) notes.push("no GPU usable by node-llama-cpp here (no GPU, or the CPU-only install): GPU rows skipped");
        else {
            const offloaded = await decode(gpu, prompts);
            rows.push({ name: `${gpu}, ${offloaded.layers} layers`, value: offloaded.rate, unit: "tokens/s", ratio: { value: offloaded.rate / cpu.rate, against: "CPU" } });
            rows.push({ name: `${gpu}: completions != CPU`, value: offloaded.texts.filter((text, i) => text !== cpu.texts[i]).length, unit: `of ${PROBLEMS}` });
        }
        return { title: this.title, rows, notes };
    },
};
