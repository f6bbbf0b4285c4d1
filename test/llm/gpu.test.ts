/**
 * GPU offload where node-llama-cpp finds a usable GPU (CUDA, Vulkan or Metal prebuild and driver): the same greedy
 * decode of the shipped tiny policy on the GPU (all layers) and on the CPU gives the same tokens; tokens/s of both
 * are printed (speed figures belong to `npm run bench -- gpu`, not to assertions). Elsewhere — no GPU, or the CPU-only
 * install (RSTAR_CPU_ONLY=1 scripts/setup.sh) — the test is skipped and says why.
 */
import { describe, expect, it } from "vitest";
import { getSharedLlama, LlamaCppBackend, type GpuChoice } from "../../src/llm/index.js";
import { STEP_STOPS, sftPrompt } from "../../src/steps/index.js";
import { loadDataset } from "../../src/data/index.js";
import { SHIPPED_POLICY } from "../support/shipped-models.js";

const detected = await getSharedLlama("auto").then(
    (llama) => llama.gpu,
    () => false as const,
);
const reason = detected === false ? "skipped: node-llama-cpp finds no usable GPU here (no GPU, or only the CPU prebuild is installed)" : `on ${detected}`;

async function greedy(gpu: GpuChoice, prompts: string[]): Promise<{ texts: string[]; tokensPerSecond: number; gpuLayers: number }> {
    const backend = new LlamaCppBackend({ modelPath: SHIPPED_POLICY, threads: 1, sequences: 1, contextSize: 1024, gpu, gpuLayers: gpu === "off" ? 0 : "max" });
    try {
        const { gpuLayers } = await backend.describe();
        const texts: string[] = [];
        let tokens = 0;
        const started = performance.now();
        for (const prompt of prompts) {
            const result = await backend.generate({ prompt, n: 1, temperature: 0, topP: 1, maxTokens: 128, stop: [...STEP_STOPS], seed: 1 });
            texts.push(result.completions[0]!.text);
            tokens += result.usage!.completionTokens;
        }
        return { texts, tokensPerSecond: tokens / ((performance.now() - started) / 1000), gpuLayers };
    } finally {
        await backend.dispose();
    }
}

describe(`GPU offload (${reason})`, () => {
    it.skipIf(detected === false)("the same greedy tokens on the GPU (all layers) as on the CPU for the tiny policy; tokens/s of both", async () => {
        const prompts = (await loadDataset("models/heldout/test.jsonl")).slice(0, 8).map((problem) => sftPrompt(problem.question));
        const cpu = await greedy("off", prompts);
        const gpu = await greedy(detected as GpuChoice, prompts);
        console.log(`tiny policy greedy decode: CPU ${cpu.tokensPerSecond.toFixed(0)} tokens/s, ${detected} (${gpu.gpuLayers} layers) ${gpu.tokensPerSecond.toFixed(0)} tokens/s`);
        expect(cpu.gpuLayers).toBe(0);
        expect(gpu.gpuLayers).toBeGreaterThan(0);
        expect(gpu.texts).toEqual(cpu.texts);
    }, 300_000);

    it.skipIf(detected === false)("--gpu auto keeps a model under 64 MiB (the tiny policy) on the CPU; an explicit API offloads it", async () => {
        const auto = new LlamaCppBackend({ modelPath: SHIPPED_POLICY, threads: 1, sequences: 1, contextSize: 1024, gpu: "auto" });
        const explicit = new LlamaCppBackend({ modelPath: SHIPPED_POLICY, threads: 1, sequences: 1, contextSize: 1024, gpu: detected as GpuChoice });
        try {
            expect((await auto.describe()).gpu).toBe(false);
            expect((await explicit.describe()).gpu).toBe(detected);
        } finally {
            await auto.dispose();
            await explicit.dispose();
        }
    }, 120_000);
});
