import { mkdtempSync, writeFileSync, copyFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { acquireModel } from "../../src/llm/index.js";
import { BatchingRewardModel, LlamaCppPpm, loadPpmDirectory } from "../../src/reward/index.js";
import { describeRewardModelConformance } from "../conformance/reward-model.js";
import { testModel } from "./test-model.js";

/** The PPM through node-llama-cpp on the tiny test model (skipped without a Python that has torch). */
const model = testModel();
let held: { release: () => Promise<void> } | undefined;
beforeAll(async () => {
    if (model !== null) held = await acquireModel(model.gguf);
});
afterAll(async () => {
    await held?.release();
});

describe.skipIf(model === null)("LlamaCppPpm", () => {
    describeRewardModelConformance({
        name: "LlamaCppPpm on the test model",
        create: () => LlamaCppPpm.fromDirectory(model?.dir ?? "", { threads: 1, contextSize: 512 }),
        tolerance: 1e-6,
    });

    describeRewardModelConformance({
        name: "BatchingRewardModel over LlamaCppPpm",
        create: async () => new BatchingRewardModel(await LlamaCppPpm.fromDirectory(model?.dir ?? "", { threads: 1, contextSize: 512 })),
        tolerance: 1e-6,
    });

    it("matches PyTorch's last hidden state and score (golden.json)", async () => {
        const ppm = await LlamaCppPpm.fromDirectory(model?.dir ?? "", { threads: 1, contextSize: 512 });
        try {
            for (const golden of model?.golden.hidden ?? []) {
                const hidden = await ppm.hiddenState(golden.text);
                const diff = Math.max(...hidden.map((value, index) => Math.abs(value - (golden.last_hidden[index] as number))));
                expect(diff).toBeLessThan(1e-2);
                expect(Math.abs(ppm.head.raw(hidden) - golden.value_raw)).toBeLessThan(5e-2);
                expect(Math.abs(ppm.head.score(hidden) - golden.score)).toBeLessThan(1e-2);
            }
        } finally {
            await ppm.dispose();
        }
    });

    it("scores sftPrompt(question, partialSolution): the text a golden entry was computed on", async () => {
        const ppm = await LlamaCppPpm.fromDirectory(model?.dir ?? "", { threads: 1, contextSize: 512 });
        try {
            const golden = model?.golden.hidden[0];
            const marker = "Let's think step by step and solve the problem with code.";
            const at = (golden?.text ?? "").indexOf(marker);
            const question = (golden?.text ?? "").slice("<|user|>:\n".length, (golden?.text ?? "").indexOf("\n<|assistant|>:"));
            const partialSolution = (golden?.text ?? "").slice(at + marker.length);
            const [score] = await ppm.score([{ question, partialSolution }]);
            expect(Math.abs((score ?? 0) - (golden?.score ?? 0))).toBeLessThan(1e-2);
        } finally {
            await ppm.dispose();
        }
    });

    it("scores an input longer than the context on its end, as the trainer truncates (the question cut off no longer matters)", async () => {
        const ppm = await LlamaCppPpm.fromDirectory(model?.dir ?? "", { threads: 1, contextSize: 256 });
        try {
            const long = "x = 1\n".repeat(300);
            const [a, b] = await ppm.score([{ question: "q", partialSolution: long }, { question: "How many apples are left at the end?", partialSolution: long }]);
            expect(Number.isFinite(a)).toBe(true);
            expect(a).toBe(b);
            // Within the context the question still counts.
            const [c, d] = await ppm.score([{ question: "q", partialSolution: "x = 1\n" }, { question: "How many apples are left at the end?", partialSolution: "x = 1\n" }]);
            expect(c).not.toBe(d);
        } finally {
            await ppm.dispose();
        }
    });

    it("checks the manifest: format, hidden size, and files, naming the file and field", async () => {
        const dir = mkdtempSync(join(tmpdir(), "rstar-ppm-dir-"));
        await expect(loadPpmDirectory(dir)).rejects.toMatchObject({ code: "FILE_NOT_FOUND" });
        copyFileSync(join(model?.dir ?? "", "value_head.safetensors"), join(dir, "value_head.safetensors"));
        writeFileSync(join(dir, "value_head.json"), JSON.stringify({ format: "rstar-value-head-v1", weights: "value_head.safetensors", tensors: { weight: "v_head.weight", bias: "v_head.bias" }, hidden_size: 32 }));
        await expect(loadPpmDirectory(dir)).rejects.toThrow(/value_head\.json.*hidden_size.*holds a head for 64/);
        writeFileSync(join(dir, "value_head.json"), JSON.stringify({ format: "other" }));
        await expect(loadPpmDirectory(dir)).rejects.toThrow(/value_head\.json.*format/);
        const loaded = await loadPpmDirectory(model?.dir ?? "");
        expect(loaded.head.hiddenSize).toBe(64);
        expect(loaded.head.scale).toBe(5);
        expect(loaded.gguf).toBe(join(model?.dir ?? "", "model.gguf"));
    });
});
