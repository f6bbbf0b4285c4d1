import { afterEach, describe, expect, it } from "vitest";
import { LLM_BACKEND_SPEC_VERSION, type GenerateRequest, type LlmBackend } from "../../src/llm/index.js";
import { RstarError } from "../../src/errors/index.js";

/**
 * The behaviour every LlmBackend must show, tested through the interface only. Run it for each backend from a
 * `test/llm/*.test.ts` file with a factory; later backends (node-llama-cpp, `rstar serve`) reuse it unchanged.
 */
export interface LlmBackendConformanceOptions {
    /** Shown in test names. */
    name: string;
    /** A fresh backend; it is disposed after each test. */
    create: () => LlmBackend | Promise<LlmBackend>;
    /** A prompt and stops such that, given `maxTokens`, every sample ends at one of the stops. */
    stopCase: { prompt: string; stop: string[]; maxTokens: number };
    /** A prompt whose samples run past `maxTokens` (so they end by length). */
    lengthCase: { prompt: string; stop: string[]; maxTokens: number };
    /** Same prompt + settings + seed give the same completions. */
    seedDeterministic: boolean;
    /** The backend reports token usage. */
    reportsUsage: boolean;
    /**
     * Makes the next generate call slow (at least ~1 s) so an in-flight abort can be observed; omit when the backend
     * cannot be slowed. `after` undoes it.
     */
    slowDown?: { before: () => void | Promise<void>; after: () => void | Promise<void> };
}

export function describeLlmBackendConformance(options: LlmBackendConformanceOptions): void {
    describe(`LlmBackend conformance: ${options.name}`, () => {
        const created: LlmBackend[] = [];
        const make = async () => {
            const backend = await options.create();
            created.push(backend);
            return backend;
        };
        afterEach(async () => {
            await Promise.all(created.splice(0).map((backend) => backend.dispose()));
        });

        const base = (overrides: Partial<GenerateRequest> = {}): GenerateRequest => ({
            prompt: options.stopCase.prompt,
            n: 1,
            temperature: 0.8,
            topP: 0.95,
            maxTokens: options.stopCase.maxTokens,
            stop: options.stopCase.stop,
            seed: 1234,
            ...overrides,
        });

        it("states the spec version it implements", async () => {
            const backend = await make();
            expect(backend.specVersion).toBe(LLM_BACKEND_SPEC_VERSION);
            expect(typeof backend.id).toBe("string");
            expect(typeof backend.model).toBe("string");
        });

        it("returns exactly n completions with dense indices", async () => {
            const backend = await make();
            for (const n of [1, 3]) {
                const result = await backend.generate(base({ n }));
                expect(result.completions).toHaveLength(n);
                expect(result.completions.map((completion) => completion.index)).toEqual([...Array(n).keys()]);
                for (const completion of result.completions) {
                    expect(typeof completion.text).toBe("string");
                    expect(["stop", "length"]).toContain(completion.finishReason);
                }
                expect(typeof result.model).toBe("string");
            }
        });

        it("reports the stop string that ended each completion and leaves it out of the text", async () => {
            const backend = await make();
            const result = await backend.generate(base({ n: 4 }));
            for (const completion of result.completions) {
                expect(completion.finishReason).toBe("stop");
                expect(options.stopCase.stop).toContain(completion.stop);
                const stop = completion.stop as string;
                expect(completion.text.endsWith(stop)).toBe(false);
                for (const other of options.stopCase.stop) expect(completion.text).not.toContain(other);
                expect(typeof completion.stopInferred).toBe("boolean");
            }
        });

        it("ends at maxTokens with finishReason length and no stop", async () => {
            const backend = await make();
            const { prompt, stop, maxTokens } = options.lengthCase;
            const result = await backend.generate(base({ prompt, stop, maxTokens, n: 2 }));
            for (const completion of result.completions) {
                expect(completion.finishReason).toBe("length");
                expect(completion.stop).toBeNull();
                expect(completion.stopInferred).toBe(false);
            }
        });

        it.runIf(options.seedDeterministic)("gives the same completions for the same seed", async () => {
            const backend = await make();
            const first = await backend.generate(base({ n: 3, seed: 99 }));
            const second = await backend.generate(base({ n: 3, seed: 99 }));
            expect(second.completions).toEqual(first.completions);
            const greedyA = await backend.generate(base({ temperature: 0, seed: 1 }));
            const greedyB = await backend.generate(base({ temperature: 0, seed: 2 }));
            expect(greedyB.completions).toEqual(greedyA.completions);
        });

        it.runIf(options.reportsUsage)("reports token usage", async () => {
            const backend = await make();
            const result = await backend.generate(base({ n: 2 }));
            expect(result.usage).not.toBeNull();
            expect(result.usage?.completionTokens).toBeGreaterThan(0);
            expect(result.usage?.promptTokens).toBeGreaterThan(0);
            expect(result.usage?.totalTokens).toBe((result.usage?.promptTokens ?? 0) + (result.usage?.completionTokens ?? 0));
        });

        it("rejects with ABORTED when the signal is already aborted", async () => {
            const backend = await make();
            const controller = new AbortController();
            controller.abort();
            await expect(backend.generate(base({ signal: controller.signal }))).rejects.toMatchObject({ code: "ABORTED" });
        });

        it.runIf(options.slowDown !== undefined)("rejects with ABORTED promptly when aborted in flight", async () => {
            const backend = await make();
            await options.slowDown?.before();
            try {
                const controller = new AbortController();
                const started = Date.now();
                const pending = backend.generate(base({ n: 2, signal: controller.signal }));
                setTimeout(() => controller.abort(), 50);
                await expect(pending).rejects.toMatchObject({ code: "ABORTED" });
                expect(Date.now() - started).toBeLessThan(900);
            } finally {
                await options.slowDown?.after();
            }
        });

        it("rejects invalid sampling settings with INVALID_ARGUMENT", async () => {
            const backend = await make();
            await expect(backend.generate(base({ n: 0 }))).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
            await expect(backend.generate(base({ maxTokens: 0 }))).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
        });

        it("lists the models it serves", async () => {
            const backend = await make();
            const models = await backend.listModels();
            expect(models.length).toBeGreaterThan(0);
            for (const model of models) expect(typeof model.id).toBe("string");
        });

        it("rejects calls after dispose with BACKEND_DISPOSED", async () => {
            const backend = await make();
            await backend[Symbol.asyncDispose]();
            const error = await backend.generate(base()).catch((caught: unknown) => caught);
            expect(RstarError.isInstance(error)).toBe(true);
            expect((error as RstarError).code).toBe("BACKEND_DISPOSED");
        });
    });
}
