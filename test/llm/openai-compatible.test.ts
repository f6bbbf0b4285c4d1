import { afterEach, describe, expect, it } from "vitest";
import { RstarError } from "../../src/errors/index.js";
import { OpenAiCompatibleBackend, type GenerateRequest, type OpenAiCompatibleOptions, type RetryEvent } from "../../src/llm/index.js";
import { startFixtureLlmServer, type Fault, type Flavor, type FixtureLlmServer } from "../support/fixture-llm-server.js";
import { STEP_STOPS, buildRstarPrompt } from "../support/simulated-policy.js";

const question = "Compute 3 + 4 * 5.";
const firstStepPrompt = buildRstarPrompt(question);
const answerStepPrompt = buildRstarPrompt(question, "<code>\n# Now print the final answer\nprint(x2)\n<end_of_code>\n<output>23<end_of_output>");
const finishedPrompt = `${answerStepPrompt}\n<answer>The answer is \\boxed{23}<end_of_answer>`;

const servers: FixtureLlmServer[] = [];
const backends: OpenAiCompatibleBackend[] = [];
afterEach(async () => {
    await Promise.all(backends.splice(0).map((backend) => backend.dispose()));
    await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function server(flavor: Flavor, ...faults: Fault[]): Promise<FixtureLlmServer> {
    const started = await startFixtureLlmServer({ flavor });
    started.injectFaults(...faults);
    servers.push(started);
    return started;
}

/** A backend with instant, recorded retry waits instead of real sleeps. */
function backendFor(target: FixtureLlmServer | string[], options: Partial<OpenAiCompatibleOptions> = {}) {
    const delays: number[] = [];
    const retries: RetryEvent[] = [];
    const backend = new OpenAiCompatibleBackend({
        baseURL: Array.isArray(target) ? target : target.baseURL,
        model: Array.isArray(target) ? "qwen2.5-math-7b" : target.model,
        sleep: async (ms) => void delays.push(ms),
        random: () => 0.5,
        onRetry: (event) => void retries.push(event),
        ...options,
    });
    backends.push(backend);
    return { backend, delays, retries };
}

function request(overrides: Partial<GenerateRequest> = {}): GenerateRequest {
    return { prompt: firstStepPrompt, n: 1, temperature: 0.7, topP: 0.95, maxTokens: 256, stop: [...STEP_STOPS], seed: 42, ...overrides };
}

function completionRequests(fixture: FixtureLlmServer) {
    return fixture.requests.filter((recorded) => recorded.method === "POST");
}

async function failure(promise: Promise<unknown>): Promise<RstarError> {
    const error = await promise.then(
        () => undefined,
        (caught: unknown) => caught,
    );
    if (!RstarError.isInstance(error)) throw new Error(`expected an RstarError, got ${String(error)}`);
    return error;
}

describe("per-server shapes and stop reporting", () => {
    it("vLLM: sends n, seed and skip_special_tokens=false, and reads the matched stop from stop_reason", async () => {
        const fixture = await server("vllm");
        const { backend } = backendFor(fixture);
        const result = await backend.generate(request({ n: 3 }));
        expect(result.completions.map((completion) => [completion.stop, completion.stopInferred])).toEqual([
            ["<end_of_step>", false],
            ["<end_of_step>", false],
            ["<end_of_step>", false],
        ]);
        expect(result.completions[0]?.text.startsWith("<code>\n# Step 1:")).toBe(true);
        const [sent] = completionRequests(fixture);
        expect(sent?.body).toMatchObject({ model: fixture.model, n: 3, seed: 42, max_tokens: 256, top_p: 0.95, stop: [...STEP_STOPS], skip_special_tokens: false, stream: false });
        const answer = await backend.generate(request({ prompt: answerStepPrompt }));
        expect(answer.completions[0]).toMatchObject({ text: "\n<answer>The answer is \\boxed{23}", stop: "<end_of_answer>", stopInferred: false });
    });

    it("SGLang: reads matched_stop, and an EOS token id means no stop string", async () => {
        const fixture = await server("sglang");
        const { backend } = backendFor(fixture);
        const step = await backend.generate(request({ n: 2 }));
        expect(step.completions.every((completion) => completion.stop === "<end_of_step>" && !completion.stopInferred)).toBe(true);
        const done = await backend.generate(request({ prompt: finishedPrompt }));
        expect(done.completions[0]).toMatchObject({ text: "", finishReason: "stop", stop: null, stopInferred: false });
    });

    it("llama.cpp server: falls back to n parallel requests with seeds seed..seed+n-1 when n is rejected, without retrying the 500", async () => {
        const fixture = await server("llama-cpp-server");
        const { backend, retries } = backendFor(fixture);
        const result = await backend.generate(request({ n: 3, seed: 10 }));
        expect(result.completions).toHaveLength(3);
        expect(retries).toEqual([]);
        const sent = completionRequests(fixture).map((recorded) => recorded.body);
        expect(sent[0]).toMatchObject({ n: 3, seed: 10 });
        expect(sent.slice(1).map((body) => [body?.["n"], body?.["seed"]]).sort()).toEqual([
            [undefined, 10],
            [undefined, 11],
            [undefined, 12],
        ]);
        // learned: the next call goes straight to parallel requests
        await backend.generate(request({ n: 2 }));
        expect(completionRequests(fixture)).toHaveLength(6);
        // the stop is not reported: inferred as the first candidate, and flagged
        expect(result.completions.every((completion) => completion.stop === "<end_of_step>" && completion.stopInferred)).toBe(true);
        expect(result.usage?.completionTokens).toBeGreaterThan(0);
    });

    it("llama.cpp native shape (baseURL without /v1): reads stopping_word and stop_type", async () => {
        const fixture = await server("llama-cpp-native");
        const { backend } = backendFor(fixture);
        const result = await backend.generate(request({ n: 2 }));
        expect(result.completions.map((completion) => [completion.stop, completion.stopInferred])).toEqual([
            ["<end_of_step>", false],
            ["<end_of_step>", false],
        ]);
        const limited = await backend.generate(request({ maxTokens: 2 }));
        expect(limited.completions[0]).toMatchObject({ finishReason: "length", stop: null });
        const done = await backend.generate(request({ prompt: finishedPrompt }));
        expect(done.completions[0]).toMatchObject({ stop: null, stopInferred: false });
    });

    it("Ollama: tops up a single-choice answer with n-1 more requests, and a resolver picks the stop", async () => {
        const fixture = await server("ollama");
        const resolver = (text: string, candidates: readonly string[]) =>
            text.includes("<answer>") ? "<end_of_answer>" : text.includes("print(") ? "<end_of_code>" : (candidates[0] ?? null);
        const { backend } = backendFor(fixture, { resolveStop: resolver });
        const result = await backend.generate(request({ n: 3, seed: 5 }));
        expect(result.completions).toHaveLength(3);
        expect(completionRequests(fixture).map((recorded) => recorded.body?.["seed"])).toEqual([5, 6, 7]);
        const answer = await backend.generate(request({ prompt: answerStepPrompt }));
        expect(answer.completions[0]).toMatchObject({ stop: "<end_of_answer>", stopInferred: true });
        // without a resolver the documented default is the first candidate in request order
        const { backend: plain } = backendFor(fixture);
        const guessed = await plain.generate(request({ prompt: answerStepPrompt }));
        expect(guessed.completions[0]).toMatchObject({ stop: "<end_of_step>", stopInferred: true });
        const done = await plain.generate(request({ prompt: finishedPrompt, stop: ["<end_of_answer>"] }));
        expect(done.completions[0]).toMatchObject({ text: "", stop: "<end_of_answer>", stopInferred: true });
    });

    it("extra body fields are configurable: drop skip_special_tokens, add others", async () => {
        const fixture = await server("vllm");
        const { backend } = backendFor(fixture, { extraBody: { skip_special_tokens: undefined, repetition_penalty: 1.05 } });
        await backend.generate(request());
        const [sent] = completionRequests(fixture);
        expect(sent?.body).not.toHaveProperty("skip_special_tokens");
        expect(sent?.body).toMatchObject({ repetition_penalty: 1.05 });
    });
});

describe("retries and backoff", () => {
    it("honours retry-after seconds on 429", async () => {
        const fixture = await server("vllm", { kind: "status", status: 429, retryAfter: "2" });
        const { backend, delays, retries } = backendFor(fixture);
        const result = await backend.generate(request());
        expect(result.completions).toHaveLength(1);
        expect(delays).toEqual([2000]);
        expect(retries[0]?.error.code).toBe("BACKEND_HTTP");
        expect(retries[0]?.error.message).toContain("HTTP 429");
    });

    it("honours retry-after as an HTTP date, capped at retryMaxDelayMs", async () => {
        const later = new Date(Date.now() + 120_000).toUTCString();
        const fixture = await server("vllm", { kind: "status", status: 503, retryAfter: later });
        const { backend, delays } = backendFor(fixture, { retryMaxDelayMs: 10_000 });
        await backend.generate(request());
        expect(delays).toEqual([10_000]);
    });

    it("backs off exponentially with jitter on 5xx and 408/409, then succeeds", async () => {
        const fixture = await server(
            "vllm",
            { kind: "status", status: 503 },
            { kind: "status", status: 502 },
            { kind: "status", status: 408 },
            { kind: "status", status: 409 },
        );
        const { backend, delays } = backendFor(fixture, { retryBaseDelayMs: 100 });
        await backend.generate(request());
        // random() = 0.5: delay = base*2^k * (1/2 + 0.5/2)
        expect(delays).toEqual([75, 150, 300, 600]);
        expect(completionRequests(fixture)).toHaveLength(5);
    });

    it("retries a dropped connection and a timed-out request", async () => {
        const fixture = await server("vllm", { kind: "drop" }, { kind: "slow", delayMs: 400 });
        const { backend, retries } = backendFor(fixture, { timeoutMs: 150 });
        const result = await backend.generate(request());
        expect(result.completions).toHaveLength(1);
        expect(retries.map((event) => event.error.code)).toEqual(["BACKEND_UNAVAILABLE", "BACKEND_TIMEOUT"]);
    });

    it("gives up after maxRetries, saying how many attempts it made and where", async () => {
        const fixture = await server("vllm", ...Array.from({ length: 5 }, (): Fault => ({ kind: "status", status: 500 })));
        const { backend } = backendFor(fixture, { maxRetries: 2 });
        const error = await failure(backend.generate(request()));
        expect(error.code).toBe("BACKEND_HTTP");
        expect(error.message).toContain(`${fixture.baseURL}/completions`);
        expect(error.message).toContain("gave up after 3 attempts");
        expect(error.retryable).toBe(true);
        expect(completionRequests(fixture)).toHaveLength(3);
    });

    it("does not retry 400, malformed JSON or a wrong shape", async () => {
        const fixture = await server("vllm", { kind: "status", status: 400, body: '{"object":"error","message":"max_tokens is too large","type":"BadRequestError","param":null,"code":400}' }, { kind: "malformed" }, { kind: "wrong-shape" });
        const { backend, retries } = backendFor(fixture);
        const bad = await failure(backend.generate(request()));
        expect(bad).toMatchObject({ code: "BACKEND_HTTP", retryable: false });
        expect(bad.message).toContain("HTTP 400");
        expect(bad.message).toContain("max_tokens is too large");
        const malformed = await failure(backend.generate(request()));
        expect(malformed.code).toBe("BACKEND_RESPONSE_INVALID");
        expect(malformed.message).toContain(`${fixture.baseURL}/completions`);
        expect(malformed.message).toContain("not valid JSON");
        const shape = await failure(backend.generate(request()));
        expect(shape.code).toBe("BACKEND_RESPONSE_INVALID");
        expect(shape.message).toContain("choices");
        expect(retries).toEqual([]);
    });

    it("stops waiting for a retry when aborted", async () => {
        const fixture = await server("vllm", { kind: "status", status: 503, retryAfter: "5" });
        const backend = new OpenAiCompatibleBackend({ baseURL: fixture.baseURL, model: fixture.model });
        backends.push(backend);
        const controller = new AbortController();
        setTimeout(() => controller.abort(), 100);
        const started = Date.now();
        const error = await failure(backend.generate(request({ signal: controller.signal })));
        expect(error.code).toBe("ABORTED");
        expect(Date.now() - started).toBeLessThan(2_000);
    });
});

describe("errors name the URL and what was wrong", () => {
    it("unreachable server: BACKEND_UNAVAILABLE", async () => {
        const fixture = await server("vllm");
        const url = fixture.baseURL;
        await fixture.close();
        servers.splice(servers.indexOf(fixture), 1);
        const { backend } = backendFor([url], { maxRetries: 1 });
        const error = await failure(backend.generate(request()));
        expect(error.code).toBe("BACKEND_UNAVAILABLE");
        expect(error.message).toContain(`cannot reach ${url}/completions`);
        expect(error.message).toMatch(/ECONNREFUSED/);
    });

    it("unknown model on vLLM and Ollama: BACKEND_MODEL_NOT_FOUND with the server's words", async () => {
        for (const flavor of ["vllm", "ollama"] as const) {
            const fixture = await server(flavor);
            const { backend } = backendFor(fixture, { model: "no-such-model" });
            const error = await failure(backend.generate(request()));
            expect(error.code).toBe("BACKEND_MODEL_NOT_FOUND");
            expect(error.message).toContain(fixture.baseURL);
            expect(error.message).toContain("no-such-model");
            expect(error.message).toMatch(flavor === "vllm" ? /does not exist/ : /not found/);
        }
    });

    it("unknown model in the older flat error shape (vLLM before the wrapped form, SGLang's shape)", async () => {
        const body = '{"object":"error","message":"The model `nope` does not exist.","type":"NotFoundError","param":null,"code":404}';
        const fixture = await server("vllm", { kind: "status", status: 404, body });
        const { backend } = backendFor(fixture, { model: "nope" });
        expect(await failure(backend.generate(request()))).toMatchObject({ code: "BACKEND_MODEL_NOT_FOUND" });
    });

    it("a baseURL without /v1 on a /v1 server: BACKEND_HTTP with a hint", async () => {
        const fixture = await server("vllm");
        const { backend } = backendFor([fixture.baseURL.replace(/\/v1$/, "")], { model: fixture.model });
        const error = await failure(backend.listModels());
        expect(error.code).toBe("BACKEND_HTTP");
        expect(error.message).toContain("HTTP 404");
        expect(error.message).toContain("/v1");
    });

    it("checkModel: passes for a served model and lists what is served otherwise", async () => {
        const fixture = await server("vllm");
        expect(await backendFor(fixture).backend.checkModel()).toMatchObject({ id: fixture.model, ownedBy: "vllm" });
        const error = await failure(backendFor(fixture, { model: "other" }).backend.checkModel());
        expect(error.code).toBe("BACKEND_MODEL_NOT_FOUND");
        expect(error.message).toContain(fixture.model);
        expect(error.message).toContain(fixture.baseURL);
    });

    it("a request in flight when the backend is disposed: BACKEND_DISPOSED", async () => {
        const fixture = await server("vllm", { kind: "slow", delayMs: 2_000 });
        const { backend } = backendFor(fixture);
        const pending = backend.generate(request());
        setTimeout(() => void backend.dispose(), 50);
        expect(await failure(pending)).toMatchObject({ code: "BACKEND_DISPOSED" });
    });
});

describe("concurrency and balancing", () => {
    it("never has more than maxInFlight requests at the server, across calls and n fallback", async () => {
        const fixture = await server("llama-cpp-server");
        fixture.setLatency(60);
        const { backend } = backendFor(fixture, { maxInFlight: 3, nStrategy: "parallel" });
        await Promise.all(Array.from({ length: 4 }, (_, index) => backend.generate(request({ n: 3, seed: index * 10 }))));
        expect(completionRequests(fixture)).toHaveLength(12);
        expect(fixture.maxInFlight).toBe(3);
        expect(backend.inFlight).toBe(0);
    });

    it("spreads load over two endpoints by least in-flight", async () => {
        const first = await server("vllm");
        const second = await server("vllm");
        first.setLatency(50);
        second.setLatency(50);
        const { backend } = backendFor([first.baseURL, second.baseURL], { model: first.model });
        await Promise.all(Array.from({ length: 8 }, () => backend.generate(request())));
        expect(completionRequests(first)).toHaveLength(4);
        expect(completionRequests(second)).toHaveLength(4);
    });

    it("skips a failing endpoint for the cool-down period", async () => {
        const healthy = await server("vllm");
        const failing = await server("vllm", ...Array.from({ length: 10 }, (): Fault => ({ kind: "status", status: 503 })));
        const { backend } = backendFor([failing.baseURL, healthy.baseURL], { model: healthy.model, endpointCooldownMs: 60_000 });
        for (let call = 0; call < 5; call += 1) await backend.generate(request());
        expect(completionRequests(failing)).toHaveLength(1);
        expect(completionRequests(healthy)).toHaveLength(5);
    });
});

describe("transport", () => {
    it("takes an injected fetch (no server needed)", async () => {
        const seen: { url: string; body: unknown }[] = [];
        const fakeFetch: typeof fetch = async (input, init) => {
            seen.push({ url: String(input), body: JSON.parse(String(init?.body)) as unknown });
            const body = { model: "m", choices: [{ index: 0, text: "x = 1\n", finish_reason: "stop", stop_reason: "<end_of_step>" }], usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 } };
            return new Response(JSON.stringify(body), { status: 200, headers: { "content-type": "application/json" } });
        };
        const backend = new OpenAiCompatibleBackend({ baseURL: "http://llm.invalid/v1/", model: "m", fetch: fakeFetch, apiKey: "k" });
        backends.push(backend);
        const result = await backend.generate(request());
        expect(seen[0]?.url).toBe("http://llm.invalid/v1/completions");
        expect(result).toEqual({
            completions: [{ index: 0, text: "x = 1\n", finishReason: "stop", stop: "<end_of_step>", stopInferred: false }],
            usage: { promptTokens: 3, completionTokens: 4, totalTokens: 7 },
            model: "m",
        });
    });
});
