import OpenAI, { APIError, BadRequestError, NotFoundError } from "openai";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { LlamaCppBackend, acquireModel, type GenerateRequest, type GenerateResult, type LlmBackend } from "../../src/llm/index.js";
import { startRstarServer, type RstarServer } from "../../src/serve/index.js";
import { sftPrompt } from "../../src/steps/index.js";
import { describeLlmBackendConformance } from "../conformance/llm-backend.js";
import { OpenAiClientBackend } from "../support/openai-client-backend.js";
import { SHIPPED_POLICY } from "../support/shipped-models.js";

/**
 * Chat completions and streaming of `rstar serve` on the shipped policy (llama.cpp), through the official `openai`
 * client and raw fetch: the chat template is the SFT prompt, streamed text equals the unstreamed text, the SSE wire
 * format, typed client errors, and a client that disconnects aborting its generation.
 */
const question = "Maya has 12 apples. Maya buys 5 more apples. How many apples does Maya have now?";

/** The real backend, with a record of how each generate call ended (to see aborts reach the model). */
class Recording implements LlmBackend {
    readonly outcomes: string[] = [];
    constructor(readonly inner: LlamaCppBackend) {}
    get specVersion() {
        return this.inner.specVersion;
    }
    get id() {
        return this.inner.id;
    }
    get model() {
        return this.inner.model;
    }
    async generate(request: GenerateRequest): Promise<GenerateResult> {
        try {
            const result = await this.inner.generate(request);
            this.outcomes.push("ok");
            return result;
        } catch (error) {
            this.outcomes.push((error as { code?: string }).code ?? "error");
            throw error;
        }
    }
    listModels() {
        return this.inner.listModels();
    }
    dispose() {
        return this.inner.dispose();
    }
    [Symbol.asyncDispose]() {
        return this.inner.dispose();
    }
}

let held: { release: () => Promise<void> } | undefined;
let policy: Recording;
let server: RstarServer;
let client: OpenAI;
beforeAll(async () => {
    held = await acquireModel(SHIPPED_POLICY);
    policy = new Recording(new LlamaCppBackend({ modelPath: SHIPPED_POLICY, threads: 1, sequences: 4 }));
    server = await startRstarServer({ policy, maxModelLen: await policy.inner.contextSize(), maxBodyBytes: 64 * 1024 });
    client = new OpenAI({ baseURL: server.baseURL, apiKey: "unused", maxRetries: 0 });
});
afterAll(async () => {
    await server?.close();
    await policy?.dispose();
    await held?.release();
});

const prompt = sftPrompt(question);
const stepStops = ["<end_of_step>", "<end_of_code>", "<end_of_answer>"];

for (const path of ["completions-stream", "chat", "chat-stream"] as const) {
    describeLlmBackendConformance({
        name: `openai client, ${path}, against rstar serve (shipped policy)`,
        create: () => new OpenAiClientBackend(server.baseURL, "model", path),
        stopCase: { prompt, stop: [...stepStops, "\n"], maxTokens: 100 },
        lengthCase: { prompt, stop: ["<end_of_answer>"], maxTokens: 3 },
        seedDeterministic: true,
        reportsUsage: true,
    });
}

describe("rstar serve: chat and streaming (shipped policy, openai client)", () => {
    it("lists the policy", async () => {
        const models = await client.models.list();
        expect(models.data.map((model) => model.id)).toEqual(["model"]);
    });

    it("chat uses the SFT prompt: a chat reply equals the completion of sftPrompt(question), partial solutions included", async () => {
        const settings = { model: "model", temperature: 0.8, top_p: 0.95, seed: 7, n: 3, max_tokens: 300 };
        const chat = await client.chat.completions.create({ ...settings, messages: [{ role: "system", content: "ignored" }, { role: "user", content: question }] });
        const plain = await client.completions.create({ ...settings, prompt });
        expect(chat.object).toBe("chat.completion");
        expect(chat.choices.map((choice) => choice.message.content)).toEqual(plain.choices.map((choice) => choice.text));
        expect(chat.choices.map((choice) => choice.message.role)).toEqual(["assistant", "assistant", "assistant"]);
        expect(chat.usage).toEqual(plain.usage);
        // the whole solution: by default the reply may run to the end of the context, and it ends with the answer
        expect(chat.choices[0]?.finish_reason).toBe("stop");
        const partial = "<code>\n# Step 1: ";
        const continued = await client.chat.completions.create({ ...settings, n: 1, messages: [{ role: "user", content: question }, { role: "assistant", content: partial }] });
        const plainContinued = await client.completions.create({ ...settings, n: 1, prompt: sftPrompt(question, partial) });
        expect(continued.choices[0]?.message.content).toBe(plainContinued.choices[0]?.text);
    });

    it("streams exactly the unstreamed text, token by token, with n > 1, stop strings and usage in the last chunk", async () => {
        const settings = { model: "model", temperature: 0.7, seed: 3, n: 2, max_tokens: 200, stop: ["<end_of_code>"] };
        const whole = await client.chat.completions.create({ ...settings, messages: [{ role: "user", content: question }] });
        const stream = await client.chat.completions.create({ ...settings, messages: [{ role: "user", content: question }], stream: true, stream_options: { include_usage: true } });
        const texts = ["", ""];
        const pieces = [0, 0];
        const finishes: (string | null)[] = [null, null];
        const chunks: OpenAI.Chat.ChatCompletionChunk[] = [];
        for await (const chunk of stream) {
            chunks.push(chunk);
            for (const choice of chunk.choices) {
                texts[choice.index] += choice.delta.content ?? "";
                if ((choice.delta.content ?? "") !== "") pieces[choice.index] = (pieces[choice.index] ?? 0) + 1;
                if (choice.finish_reason !== null) finishes[choice.index] = choice.finish_reason;
            }
        }
        expect(texts).toEqual(whole.choices.map((choice) => choice.message.content));
        expect(finishes).toEqual(whole.choices.map((choice) => choice.finish_reason));
        for (const choice of whole.choices) expect(choice.message.content).not.toContain("<end_of_code>");
        // llama.cpp streams as it decodes: many pieces per choice, not the whole text at the end
        for (const count of pieces) expect(count).toBeGreaterThan(5);
        expect(chunks[0]?.choices[0]?.delta.role).toBe("assistant");
        expect(new Set(chunks.map((chunk) => chunk.id)).size).toBe(1);
        const last = chunks.at(-1);
        expect(last?.choices).toEqual([]);
        expect(last?.usage).toEqual(whole.usage);
        for (const chunk of chunks.slice(0, -1)) expect(chunk.usage).toBeNull();

        const plain = await client.completions.create({ ...settings, prompt, stream: true });
        const plainTexts = ["", ""];
        for await (const chunk of plain) for (const choice of chunk.choices) plainTexts[choice.index] += choice.text;
        expect(plainTexts).toEqual(texts);
    });

    it("writes OpenAI's server-sent events: data lines, a finish chunk per choice, then data: [DONE]", async () => {
        const response = await fetch(`${server.baseURL}/completions`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ model: "model", prompt, max_tokens: 20, temperature: 0, stream: true }),
        });
        expect(response.status).toBe(200);
        expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
        const raw = await response.text();
        expect(raw.endsWith("\n\ndata: [DONE]\n\n")).toBe(true);
        const events = raw.split("\n\n").filter((event) => event !== "");
        for (const event of events) expect(event).toMatch(/^data: /);
        const chunks = events.slice(0, -1).map((event) => JSON.parse(event.slice("data: ".length)) as { object: string; choices: { text: string; finish_reason: string | null; stop_reason?: string | null }[] });
        for (const chunk of chunks) expect(chunk.object).toBe("text_completion");
        expect(chunks.at(-1)?.choices[0]).toMatchObject({ text: "", finish_reason: "length", stop_reason: null });
        expect(chunks.slice(0, -1).every((chunk) => chunk.choices[0]?.finish_reason === null)).toBe(true);
        expect("usage" in (chunks[0] as object)).toBe(false); // only with stream_options.include_usage
    });

    it("surfaces errors as the client's typed errors", async () => {
        await expect(client.chat.completions.create({ model: "nope", messages: [{ role: "user", content: question }] })).rejects.toBeInstanceOf(NotFoundError);
        await expect(client.completions.create({ model: "model", prompt, n: 0 })).rejects.toBeInstanceOf(BadRequestError);
        await expect(client.chat.completions.create({ model: "model", messages: [{ role: "user", content: question }], stream: true, top_p: 2 })).rejects.toBeInstanceOf(BadRequestError);
        const turns = client.chat.completions.create({
            model: "model",
            messages: [
                { role: "user", content: question },
                { role: "assistant", content: "17" },
                { role: "user", content: "and then?" },
            ],
        });
        await expect(turns).rejects.toThrow(/one user message/);
        const tooLarge = await client.completions.create({ model: "model", prompt: "x".repeat(100 * 1024) }).catch((error: unknown) => error);
        expect(tooLarge).toBeInstanceOf(APIError);
        expect((tooLarge as APIError).status).toBe(413);
    });

    it("a client that disconnects mid-stream aborts the generation", async () => {
        const before = server.stats();
        const outcomes = policy.outcomes.length;
        const controller = new AbortController();
        // near-uniform sampling over the vocabulary: with this seed the model runs on to max_tokens (seconds of work)
        const settings = { model: "model", prompt: "x", temperature: 100, seed: 1, max_tokens: 900 };
        const stream = await client.completions.create({ ...settings, stream: true }, { signal: controller.signal });
        let pieces = 0;
        // the official client ends the iteration quietly when its signal aborts
        for await (const chunk of stream) {
            pieces += chunk.choices.length;
            if (pieces === 3) controller.abort();
        }
        expect(pieces).toBe(3);
        await vi.waitFor(() => expect(server.stats()).toMatchObject({ inFlight: 0, aborted: before.aborted + 1 }), { timeout: 5_000 });
        expect(policy.outcomes.slice(outcomes)).toEqual(["ABORTED"]);
        // the same request left to run reaches max_tokens: the abort cut real work short
        const full = await client.completions.create(settings);
        expect(full.choices[0]?.finish_reason).toBe("length");
        expect(full.usage?.completion_tokens).toBe(900);
    });
});
