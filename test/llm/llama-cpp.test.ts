import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LlamaCppBackend, acquireModel, createDefaultRegistry, defaultThreadCount } from "../../src/llm/index.js";
import { sftPrompt } from "../../src/steps/index.js";
import { describeLlmBackendConformance } from "../conformance/llm-backend.js";
import { testModel } from "../reward/test-model.js";

/**
 * The node-llama-cpp policy backend on the tiny test model from train/make_test_model.py (skipped without a Python
 * that has torch). One model load for the whole file: a held reference keeps it loaded between backends.
 */
const model = testModel();
const prompt = sftPrompt("Ava has 46 books. Ava finds 20 books. How many books does Ava have now?");
const create = (options: Partial<ConstructorParameters<typeof LlamaCppBackend>[0]> = {}) =>
    new LlamaCppBackend({ modelPath: model?.gguf ?? "missing.gguf", threads: 1, contextSize: 512, sequences: 4, ...options });

let held: { release: () => Promise<void> } | undefined;
beforeAll(async () => {
    if (model !== null) held = await acquireModel(model.gguf);
});
afterAll(async () => {
    await held?.release();
});

describe.skipIf(model === null)("LlamaCppBackend", () => {
    describeLlmBackendConformance({
        name: "LlamaCppBackend on the test model",
        create: () => create(),
        // The tiny model writes short lines: with seed 1234 every sample ends at a newline before EOS.
        stopCase: { prompt, stop: ["<end_of_step>", "\n"], maxTokens: 100 },
        lengthCase: { prompt, stop: ["<end_of_answer>"], maxTokens: 3 },
        seedDeterministic: true,
        reportsUsage: true,
    });

    it("matches PyTorch's greedy tokens (golden.json), F32 model", async () => {
        const backend = create({ sequences: 1 });
        try {
            for (const golden of model?.golden.greedy ?? []) {
                const result = await backend.generate({ prompt: golden.prompt, n: 1, temperature: 0, topP: 1, maxTokens: golden.ids.length, stop: [] });
                expect(result.completions[0]?.text).toBe(golden.text);
                expect(result.usage?.promptTokens).toBe(golden.prompt_ids.length);
            }
        } finally {
            await backend.dispose();
        }
    });

    it("gives n distinct samples decoded as parallel sequences, more than `sequences` in waves", async () => {
        const backend = create({ sequences: 3 });
        try {
            const result = await backend.generate({ prompt, n: 7, temperature: 1, topP: 1, maxTokens: 24, stop: [], seed: 7 });
            expect(result.completions.map((completion) => completion.index)).toEqual([0, 1, 2, 3, 4, 5, 6]);
            expect(new Set(result.completions.map((completion) => completion.text)).size).toBeGreaterThan(3);
            // completion i uses seed + i: the same sample comes back as completion 0 of a call with seed + i
            const shifted = await backend.generate({ prompt, n: 1, temperature: 1, topP: 1, maxTokens: 24, stop: [], seed: 9 });
            expect(shifted.completions[0]?.text).toBe(result.completions[2]?.text);
        } finally {
            await backend.dispose();
        }
    });

    it("queues concurrent calls on the shared sequences; aborting a queued call rejects it alone", async () => {
        const backend = create({ sequences: 2 });
        try {
            const request = { prompt, temperature: 0.8, topP: 0.95, maxTokens: 40, stop: [], seed: 3 };
            const controller = new AbortController();
            const calls = [backend.generate({ ...request, n: 2 }), backend.generate({ ...request, n: 2, signal: controller.signal }), backend.generate({ ...request, n: 2 })];
            controller.abort();
            const [first, aborted, third] = await Promise.allSettled(calls);
            expect(aborted).toMatchObject({ status: "rejected", reason: { code: "ABORTED" } });
            expect(first).toMatchObject({ status: "fulfilled" });
            expect(third).toMatchObject({ status: "fulfilled" });
            const texts = (settled: PromiseSettledResult<{ completions: unknown[] }> | undefined) => (settled?.status === "fulfilled" ? settled.value.completions : null);
            expect(texts(third)).toEqual(texts(first));
        } finally {
            await backend.dispose();
        }
    });

    it("rejects an in-flight call with ABORTED, and in-flight calls with BACKEND_DISPOSED on dispose", async () => {
        const backend = create({ sequences: 2 });
        await backend.load();
        const controller = new AbortController();
        const long = { prompt, n: 2, temperature: 1, topP: 1, maxTokens: 400, stop: [], seed: 11 };
        const pending = backend.generate({ ...long, signal: controller.signal });
        setTimeout(() => controller.abort(), 2);
        await expect(pending).rejects.toMatchObject({ code: "ABORTED" });
        const inFlight = backend.generate(long);
        setTimeout(() => void backend.dispose(), 2);
        await expect(inFlight).rejects.toMatchObject({ code: "BACKEND_DISPOSED" });
    });

    it("rejects a prompt that does not fit the context with INVALID_ARGUMENT", async () => {
        const backend = create();
        try {
            await expect(backend.generate({ prompt: "x = 1\n".repeat(600), n: 1, temperature: 0, topP: 1, maxTokens: 5, stop: [] })).rejects.toMatchObject({
                code: "INVALID_ARGUMENT",
                message: expect.stringContaining("raise contextSize"),
            });
        } finally {
            await backend.dispose();
        }
    });

    it("resolves llamacpp:PATH.gguf from the default registry", async () => {
        const backend = createDefaultRegistry().resolve(`llamacpp:${model?.gguf}`, { threads: 1, contextSize: 512 });
        try {
            expect(backend.id).toBe(`llamacpp:${model?.gguf}`);
            expect(backend.model).toBe("model");
            expect(await backend.listModels()).toEqual([{ id: "model", ownedBy: "llamacpp" }]);
        } finally {
            await backend.dispose();
        }
    });
});

describe("LlamaCppBackend without a model", () => {
    it("reports a missing GGUF as FILE_NOT_FOUND, and picks a thread count that fits the machine", async () => {
        const backend = new LlamaCppBackend({ modelPath: "/nonexistent/model.gguf", threads: 1 });
        await expect(backend.generate({ prompt: "x", n: 1, temperature: 0, topP: 1, maxTokens: 1, stop: [] })).rejects.toMatchObject({ code: "FILE_NOT_FOUND" });
        expect(defaultThreadCount(2)).toBe(1);
        expect(defaultThreadCount(1)).toBe(1);
        expect(defaultThreadCount(16)).toBe(8);
        expect(() => new LlamaCppBackend({ modelPath: "m.gguf", threads: 0 })).toThrow(/threads/);
    });
});

describe("LlamaCppBackend disposed while completions run", () => {
    it("waits for the decodes in progress, rejects the calls as disposed, and the process goes on", async () => {
        const model = "models/policy/model.gguf";
        const question = "Aisha has $92. Aisha spends $7 on a book. How many dollars does Aisha have at the end?";
        for (let round = 0; round < 3; round += 1) {
            const backend = new LlamaCppBackend({ modelPath: model, threads: 1, sequences: 2 });
            const call = backend.generate({ prompt: sftPrompt(question), n: 4, temperature: 1, topP: 1, maxTokens: 600, stop: [], seed: round });
            const outcome = call.then(() => "finished", (error: { code?: string }) => error.code ?? "unknown");
            await new Promise((resolve) => setTimeout(resolve, 20 + 30 * round));
            await backend.dispose();
            expect(["BACKEND_DISPOSED", "finished"]).toContain(await outcome);
        }
        // The shared model and llama.cpp still serve a fresh backend.
        const fresh = new LlamaCppBackend({ modelPath: model, threads: 1, sequences: 1 });
        const result = await fresh.generate({ prompt: sftPrompt(question), n: 1, temperature: 0, topP: 1, maxTokens: 8, stop: [], seed: 0 });
        expect(result.completions).toHaveLength(1);
        await fresh.dispose();
    });
});
