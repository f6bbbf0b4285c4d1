import { afterAll, beforeAll } from "vitest";
import { MockLlmBackend, OpenAiCompatibleBackend } from "../../src/llm/index.js";
import { describeLlmBackendConformance, type LlmBackendConformanceOptions } from "../conformance/llm-backend.js";
import { FLAVORS, startFixtureLlmServer, type FixtureLlmServer } from "../support/fixture-llm-server.js";
import { STEP_STOPS, buildRstarPrompt, simulateCompletion, startSimulatedPolicyServer, type SimulatedPolicyServer } from "../support/simulated-policy.js";

const prompt = buildRstarPrompt("Compute 3 + 4 * 5.");
const cases = {
    stopCase: { prompt, stop: [...STEP_STOPS], maxTokens: 200 },
    lengthCase: { prompt, stop: [...STEP_STOPS], maxTokens: 3 },
} satisfies Pick<LlmBackendConformanceOptions, "stopCase" | "lengthCase">;

// The scripted mock, driven by the in-process simulated policy.
let mockSlow = false;
describeLlmBackendConformance({
    name: "MockLlmBackend (scripted with the simulated policy)",
    create: () =>
        new MockLlmBackend({
            script: async (request) => {
                if (mockSlow) {
                    await new Promise((resolve, reject) => {
                        const timer = setTimeout(resolve, 2_000);
                        request.signal?.addEventListener("abort", () => {
                            clearTimeout(timer);
                            reject(new Error("aborted"));
                        });
                    }).catch(() => undefined);
                }
                const simulated = simulateCompletion(request.prompt, request);
                const completionTokens = simulated.choices.reduce((sum, choice) => sum + choice.completionTokens, 0);
                return {
                    completions: simulated.choices.map((choice) => ({ text: choice.text, finishReason: choice.finishReason, stop: choice.stop })),
                    usage: { promptTokens: simulated.promptTokens, completionTokens, totalTokens: simulated.promptTokens + completionTokens },
                };
            },
        }),
    ...cases,
    seedDeterministic: true,
    reportsUsage: true,
    slowDown: { before: () => void (mockSlow = true), after: () => void (mockSlow = false) },
});

// The OpenAI-compatible backend against each recorded server shape.
for (const flavor of FLAVORS) {
    let server: FixtureLlmServer;
    beforeAll(async () => {
        server = await startFixtureLlmServer({ flavor });
    });
    afterAll(async () => {
        await server.close();
    });
    describeLlmBackendConformance({
        name: `OpenAiCompatibleBackend against a ${flavor} fixture server`,
        create: () => new OpenAiCompatibleBackend({ baseURL: server.baseURL, model: server.model, maxRetries: 0 }),
        ...cases,
        seedDeterministic: true,
        reportsUsage: true,
        slowDown: { before: () => server.setLatency(2_000), after: () => server.setLatency(0) },
    });
}

// The OpenAI-compatible backend against the simulated policy's own HTTP server.
let simulated: SimulatedPolicyServer;
beforeAll(async () => {
    simulated = await startSimulatedPolicyServer();
});
afterAll(async () => {
    await simulated.close();
});
describeLlmBackendConformance({
    name: "OpenAiCompatibleBackend against the simulated policy server",
    create: () => new OpenAiCompatibleBackend({ baseURL: simulated.baseURL, model: simulated.model }),
    ...cases,
    seedDeterministic: true,
    reportsUsage: true,
});
