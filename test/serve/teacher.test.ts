import OpenAI, { AuthenticationError } from "openai";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { OpenAiCompatibleBackend } from "../../src/llm/index.js";
import { STEP_STOPS, sftPrompt } from "../../src/steps/index.js";
import { startRstarServer, type RstarServer } from "../../src/serve/index.js";
import { TeacherBackend, generateDataset, rollout } from "../../src/synth/index.js";
import { describeLlmBackendConformance, type LlmBackendConformanceOptions } from "../conformance/llm-backend.js";
import { OpenAiClientBackend } from "../support/openai-client-backend.js";
import { openRunner } from "../synth/runner.js";

/** The noisy teacher served by rstar serve's one server (what `rstar teacher serve` runs). */

const dataset = generateDataset({ seed: 31, train: 0, test: 6, ood: 6 });
const prompt = sftPrompt(dataset.test[0]!.question);
const cases = {
    stopCase: { prompt, stop: [...STEP_STOPS], maxTokens: 200 },
    lengthCase: { prompt, stop: [...STEP_STOPS], maxTokens: 3 },
} satisfies Pick<LlmBackendConformanceOptions, "stopCase" | "lengthCase">;

let server: RstarServer & { model: string };
let teacher: TeacherBackend;
beforeAll(async () => {
    teacher = new TeacherBackend();
    server = Object.assign(await startRstarServer({ policy: teacher, defaultMaxTokens: 512 }), { model: teacher.model });
});
afterAll(async () => {
    await server.close();
    await teacher.dispose();
});

describeLlmBackendConformance({
    name: "TeacherBackend (in process)",
    create: () => new TeacherBackend(),
    ...cases,
    seedDeterministic: true,
    reportsUsage: true,
});

describeLlmBackendConformance({
    name: "OpenAiCompatibleBackend against the teacher server",
    create: () => new OpenAiCompatibleBackend({ baseURL: server.baseURL, model: server.model, maxRetries: 0 }),
    ...cases,
    seedDeterministic: true,
    reportsUsage: true,
});

for (const path of ["completions-stream", "chat-stream"] as const) {
    describeLlmBackendConformance({
        name: `openai client, ${path}, against the teacher through rstar serve`,
        create: () => new OpenAiClientBackend(server.baseURL, server.model, path),
        ...cases,
        seedDeterministic: true,
        reportsUsage: true,
    });
}

describe("teacher through rstar serve", () => {
    it("answers exactly as the in-process teacher, so rollouts through HTTP match", async () => {
        const runner = await openRunner();
        const remote = new OpenAiCompatibleBackend({ baseURL: server.baseURL, model: server.model, maxRetries: 0 });
        const local = new TeacherBackend();
        try {
            for (const problem of dataset.ood) {
                for (const seed of [1, 2]) {
                    const viaHttp = await rollout(remote, runner, problem.question, { temperature: 1, seed });
                    const inProcess = await rollout(local, runner, problem.question, { temperature: 1, seed });
                    expect(viaHttp).toEqual(inProcess);
                }
            }
        } finally {
            await remote.dispose();
            await runner.close();
        }
    });

    it("speaks vLLM's wire format: stop_reason, usage, and its error shapes", async () => {
        const post = (body: unknown) => fetch(`${server.baseURL}/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
        const ok = await post({ model: server.model, prompt, n: 2, temperature: 0.7, seed: 5, max_tokens: 200, stop: STEP_STOPS });
        expect(ok.status).toBe(200);
        const body = (await ok.json()) as { object: string; model: string; choices: { index: number; text: string; finish_reason: string; stop_reason: string | null }[]; usage: { total_tokens: number } };
        expect(body).toMatchObject({ object: "text_completion", model: server.model });
        expect(body.choices.map((choice) => choice.index)).toEqual([0, 1]);
        for (const choice of body.choices) {
            expect(choice.finish_reason).toBe("stop");
            expect(choice.stop_reason).toBe("<end_of_step>");
            expect(choice.text.startsWith("<code>\n# Step 1: ")).toBe(true);
        }
        expect(body.usage.total_tokens).toBeGreaterThan(0);
        expect((await post({ model: "other", prompt })).status).toBe(404);
        const bad = await post({ model: server.model, prompt, n: 0 });
        expect(bad.status).toBe(400);
        expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/^n: /);
        expect((await fetch(`${server.baseURL}/completions`, { method: "POST", body: "{not json" })).status).toBe(400);
        expect((await fetch(`${server.baseURL}/nothing`)).status).toBe(404);
        const models = (await (await fetch(`${server.baseURL}/models`)).json()) as { data: { id: string }[] };
        expect(models.data.map((model) => model.id)).toEqual([server.model]);
    });

    it("a chat client that disconnects while the teacher thinks aborts it (the server's counters show it)", async () => {
        const slow = new TeacherBackend({ latencyMs: 60_000 });
        const temporary = await startRstarServer({ policy: slow });
        try {
            const client = new OpenAI({ baseURL: temporary.baseURL, apiKey: "unused", maxRetries: 0 });
            const controller = new AbortController();
            const stream = await client.chat.completions.create(
                { model: slow.model, messages: [{ role: "user", content: dataset.test[0]!.question }], stream: true },
                { signal: controller.signal },
            );
            const roles: string[] = [];
            for await (const chunk of stream) {
                roles.push(chunk.choices[0]?.delta.role ?? "");
                controller.abort(); // the first chunk (the role) comes at once; the text would take a minute
            }
            expect(roles).toEqual(["assistant"]);
            await vi.waitFor(() => expect(temporary.stats()).toEqual({ inFlight: 0, completed: 0, aborted: 1 }), { timeout: 5_000 });
        } finally {
            await temporary.close(0);
        }
    });

    it("with an API key, refuses requests without it (401, the client's AuthenticationError) and serves those with it", async () => {
        const guarded = await startRstarServer({ policy: teacher, apiKey: "s3cret" });
        try {
            const wrong = new OpenAI({ baseURL: guarded.baseURL, apiKey: "s3cret-not", maxRetries: 0 });
            await expect(wrong.models.list()).rejects.toBeInstanceOf(AuthenticationError);
            await expect(wrong.chat.completions.create({ model: teacher.model, messages: [{ role: "user", content: "q" }], stream: true })).rejects.toBeInstanceOf(AuthenticationError);
            expect((await fetch(`${guarded.url}/health`)).status).toBe(200);
            const right = new OpenAI({ baseURL: guarded.baseURL, apiKey: "s3cret", maxRetries: 0 });
            expect((await right.models.list()).data.map((model) => model.id)).toEqual([teacher.model]);
            await expect(startRstarServer({ policy: teacher, apiKey: "" })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
        } finally {
            await guarded.close(0);
        }
    });
});
