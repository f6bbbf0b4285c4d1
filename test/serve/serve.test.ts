import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LlamaCppBackend, MockLlmBackend, OpenAiCompatibleBackend, acquireModel } from "../../src/llm/index.js";
import { LlamaCppPpm, PoolingPpm } from "../../src/reward/index.js";
import { startRstarServer, type RstarServer } from "../../src/serve/index.js";
import { sftPrompt } from "../../src/steps/index.js";
import { describeLlmBackendConformance } from "../conformance/llm-backend.js";
import { collect, firstLine, spawnRstar } from "../support/cli.js";
import { SAMPLE_REWARD_ITEMS as SAMPLE, describeRewardModelConformance } from "../conformance/reward-model.js";
import { testModel } from "../reward/test-model.js";

/**
 * `rstar serve` on the test model: the LLM conformance suite through OpenAiCompatibleBackend, the reward conformance
 * suite through PoolingPpm (which must give LlamaCppPpm's scores), request validation, and the CLI.
 */
const model = testModel();
const prompt = sftPrompt("Ava has 46 books. Ava finds 20 books. How many books does Ava have now?");

let held: { release: () => Promise<void> } | undefined;
let policy: LlamaCppBackend;
let ppm: LlamaCppPpm;
let server: RstarServer;
beforeAll(async () => {
    if (model === null) return;
    held = await acquireModel(model.gguf);
    policy = new LlamaCppBackend({ modelPath: model.gguf, threads: 1, contextSize: 512, sequences: 4 });
    ppm = await LlamaCppPpm.fromDirectory(model.dir, { threads: 1, contextSize: 512 });
    server = await startRstarServer({ policy, ppm: { source: ppm, model: "ppm" }, maxModelLen: 512 });
});
afterAll(async () => {
    await server?.close();
    await policy?.dispose();
    await ppm?.dispose();
    await held?.release();
});

const post = async (path: string, body: unknown) => {
    const response = await fetch(server.url + path, { method: "POST", headers: { "content-type": "application/json" }, body: typeof body === "string" ? body : JSON.stringify(body) });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
};

describe.skipIf(model === null)("rstar serve", () => {
    describeLlmBackendConformance({
        name: "OpenAiCompatibleBackend against rstar serve (llama.cpp test model)",
        create: () => new OpenAiCompatibleBackend({ baseURL: server.baseURL, model: "model", maxRetries: 0 }),
        stopCase: { prompt, stop: ["<end_of_step>", "\n"], maxTokens: 100 },
        lengthCase: { prompt, stop: ["<end_of_answer>"], maxTokens: 3 },
        seedDeterministic: true,
        reportsUsage: true,
    });

    describeRewardModelConformance({
        name: "PoolingPpm against rstar serve (llama.cpp test model)",
        create: () => new PoolingPpm({ baseURL: server.url, model: "ppm", head: ppm.head, maxRetries: 0 }),
        tolerance: 1e-6,
    });

    it("round-trips: PoolingPpm over HTTP gives LlamaCppPpm's scores", async () => {
        const remote = new PoolingPpm({ baseURL: `${server.url}/v1`, model: "ppm", head: ppm.head });
        const viaEmbeddings = new PoolingPpm({ baseURL: server.url, model: "ppm", head: ppm.head, endpoint: "embeddings", extraBody: { encoding_format: "base64" } });
        const direct = await ppm.score(SAMPLE);
        const [http, embeddings] = await Promise.all([remote.score(SAMPLE), viaEmbeddings.score(SAMPLE)]);
        http.forEach((score, index) => expect(score).toBeCloseTo(direct[index] as number, 9));
        embeddings.forEach((score, index) => expect(score).toBeCloseTo(direct[index] as number, 5));
    });

    it("answers vLLM's shapes: models, completions with stop_reason, pooling", async () => {
        const models = (await (await fetch(`${server.baseURL}/models`)).json()) as { data: { id: string; max_model_len: number }[] };
        expect(models.data.map((entry) => entry.id)).toEqual(["model", "ppm"]);
        const completion = await post("/v1/completions", { model: "model", prompt: [prompt], n: 2, stop: "\n", temperature: 0, max_tokens: 50, seed: 1 });
        expect(completion.status).toBe(200);
        expect(completion.body).toMatchObject({ object: "text_completion", model: "model", choices: [{ index: 0, finish_reason: "stop", stop_reason: "\n", logprobs: null }, { index: 1 }] });
        const pooled = await post("/pooling", { model: "ppm", input: "x = 1", task: "embed" });
        const vector = (pooled.body["data"] as { data: number[] }[])[0]?.data ?? [];
        expect(vector).toHaveLength(64);
        expect(Math.hypot(...vector)).toBeCloseTo(1, 5); // use_activation defaults to true: normalized, as vLLM does
    });

    it("rejects bad requests with clear 4xx errors in vLLM's error shape", async () => {
        const cases: [string, unknown, number, RegExp][] = [
            ["/v1/completions", "{not json", 400, /not valid JSON/],
            ["/v1/completions", { model: "model" }, 400, /prompt/],
            ["/v1/completions", { model: "model", prompt: "x", n: 0 }, 400, /^n: /],
            ["/v1/completions", { model: "model", prompt: "x", top_p: 2 }, 400, /top_p/],
            ["/v1/completions", { model: "model", prompt: "x", stream: "yes" }, 400, /stream/],
            ["/v1/completions", { model: "nope", prompt: "x" }, 404, /The model `nope` does not exist/],
            ["/v1/completions", { model: "model", prompt: "x = 1\n".repeat(600), max_tokens: 5 }, 400, /raise contextSize/],
            ["/pooling", { model: "ppm", input: [] }, 400, /input/],
            ["/pooling", { model: "ppm", input: "x", task: "token_embed" }, 400, /token_embed is not supported/],
            ["/pooling", { model: "ppm", input: "x", normalize: false }, 400, /use_activation/],
            ["/pooling", { model: "other", input: "x" }, 404, /does not exist/],
            ["/v2/nothing", {}, 404, /no route/],
        ];
        for (const [path, body, status, message] of cases) {
            const answer = await post(path, body);
            expect({ path, status: answer.status }).toEqual({ path, status });
            const error = answer.body["error"] as { message: string; code: number; type: string };
            expect(error.message).toMatch(message);
            expect(error.code).toBe(status);
        }
        expect((await fetch(`${server.baseURL}/completions`)).status).toBe(405);
    });

    it("finishes requests in flight on close, then refuses connections", async () => {
        const mock = new MockLlmBackend({ script: () => [{ text: "late", finishReason: "stop", stop: null }], latencyMs: 300 });
        const temporary = await startRstarServer({ policy: mock });
        const pending = fetch(`${temporary.baseURL}/completions`, { method: "POST", body: JSON.stringify({ model: mock.model, prompt: "p", max_tokens: 5 }) });
        await new Promise((resolve) => setTimeout(resolve, 50));
        const closing = temporary.close();
        const answer = await pending;
        expect(answer.status).toBe(200);
        await closing;
        await expect(fetch(`${temporary.baseURL}/models`)).rejects.toThrow();
    });

    it("rstar serve: --help, a missing model exits 2, and SIGTERM stops it with exit 0", async () => {
        const run = (args: string[]) => spawnRstar(["serve", ...args], "source");
        const help = await collect(run(["--help"]));
        expect(help.code).toBe(0);
        expect(help.stdout).toContain("--policy <model.gguf>");
        const missing = await collect(run(["--policy", "/nonexistent.gguf", "--port", "0"]));
        expect(missing.code).toBe(2);
        expect(missing.stderr).toContain("/nonexistent.gguf");

        const child = run(["--policy", model?.gguf ?? "", "--ppm", model?.dir ?? "", "--port", "0", "--threads", "1", "--context-size", "512"]);
        const result = collect(child);
        const baseURL = await firstLine(child);
        expect(baseURL).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
        const remote = new OpenAiCompatibleBackend({ baseURL, model: "model" });
        const generated = await remote.generate({ prompt, n: 2, temperature: 0, topP: 1, maxTokens: 8, stop: [], seed: 1 });
        expect(generated.completions).toHaveLength(2);
        child.kill("SIGTERM");
        const done = await result;
        expect(done.code).toBe(0);
    }, 60_000);
});
