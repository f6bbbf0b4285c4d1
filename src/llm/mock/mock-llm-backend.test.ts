import { describe, expect, it } from "vitest";
import { RstarError } from "../../errors/index.js";
import type { GenerateRequest } from "../types.js";
import { MockLlmBackend } from "./mock-llm-backend.js";

const request = (overrides: Partial<GenerateRequest> = {}): GenerateRequest => ({
    prompt: "p",
    n: 2,
    temperature: 0.7,
    topP: 1,
    maxTokens: 64,
    stop: ["<end_of_step>", "<end_of_code>"],
    ...overrides,
});

describe("MockLlmBackend", () => {
    it("replays a script in order, cycling completions up to n, and records every call", async () => {
        const backend = new MockLlmBackend({
            script: [["a", "b", "c"], { completions: [{ text: "print(x)", stop: "<end_of_code>" }, { text: "x", finishReason: "length" }], usage: { promptTokens: 1, completionTokens: 2, totalTokens: 3 } }],
        });
        const first = await backend.generate(request({ n: 4 }));
        expect(first.completions.map((completion) => [completion.index, completion.text, completion.stop])).toEqual([
            [0, "a", "<end_of_step>"],
            [1, "b", "<end_of_step>"],
            [2, "c", "<end_of_step>"],
            [3, "a", "<end_of_step>"],
        ]);
        const second = await backend.generate(request({ prompt: "q" }));
        expect(second.completions[0]).toMatchObject({ text: "print(x)", stop: "<end_of_code>", finishReason: "stop" });
        expect(second.completions[1]).toMatchObject({ finishReason: "length", stop: null });
        expect(second.usage).toEqual({ promptTokens: 1, completionTokens: 2, totalTokens: 3 });
        expect(backend.calls.map((call) => call.request.prompt)).toEqual(["p", "q"]);
        await expect(backend.generate(request())).rejects.toMatchObject({ code: "INTERNAL" });
    });

    it("takes a function script and throws scripted errors", async () => {
        const backend = new MockLlmBackend({
            script: (req, call) => (call === 0 ? [`echo ${req.prompt}`] : new RstarError("BACKEND_UNAVAILABLE", "down", { retryable: true })),
        });
        expect((await backend.generate(request({ n: 1 }))).completions[0]?.text).toBe("echo p");
        await expect(backend.generate(request())).rejects.toMatchObject({ code: "BACKEND_UNAVAILABLE" });
    });

    it("honours abort during its latency", async () => {
        const backend = new MockLlmBackend({ script: [["a"]], latencyMs: 5_000 });
        const controller = new AbortController();
        const pending = backend.generate(request({ signal: controller.signal }));
        controller.abort();
        await expect(pending).rejects.toMatchObject({ code: "ABORTED" });
    });
});
