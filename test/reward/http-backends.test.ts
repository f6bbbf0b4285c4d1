import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HttpPrm, PoolingPpm, ValueHead, aggregateSteps, qwenPrmInput, splitRstarSteps } from "../../src/reward/index.js";
import { FAKE_HIDDEN_SIZE, fakeStepProbability, startFixturePoolingServer, type FixturePoolingServer } from "./fixture-pooling-server.js";

const head = new ValueHead(Array.from({ length: FAKE_HIDDEN_SIZE }, (_, index) => (index % 3) - 1), 0);
const item = { question: "Compute 1 + 1.", partialSolution: "\n<code>\nx = 1 + 1\n<end_of_step>" };
const recordSleep = (delays: number[]) => async (ms: number) => {
    delays.push(ms);
};

let ppm: FixturePoolingServer;
let prm: FixturePoolingServer;
beforeAll(async () => {
    ppm = await startFixturePoolingServer({ flavor: "ppm", maxInputChars: 500 });
    prm = await startFixturePoolingServer({ flavor: "prm" });
});
afterAll(async () => {
    await ppm.close();
    await prm.close();
});

describe("PoolingPpm on the wire", () => {
    it("sends vLLM's pooling request: model, input list, task embed, use_activation false, float encoding", async () => {
        const backend = new PoolingPpm({ baseURL: ppm.url, model: ppm.model, head });
        await backend.score([item, item]);
        expect(ppm.requests.at(-1)).toEqual({ model: ppm.model, input: [expect.stringContaining("x = 1 + 1"), expect.any(String)], task: "embed", use_activation: false, encoding_format: "float" });
        const legacy = new PoolingPpm({ baseURL: ppm.url, model: ppm.model, head, task: null, extraBody: { use_activation: undefined, truncate_prompt_tokens: 100 } });
        await legacy.score([item]).catch(() => undefined);
        expect(ppm.requests.at(-1)).toEqual({ model: ppm.model, input: [expect.any(String)], encoding_format: "float", truncate_prompt_tokens: 100 });
    });

    it("splits large calls into requests of at most maxItemsPerRequest inputs", async () => {
        const before = ppm.requests.length;
        const backend = new PoolingPpm({ baseURL: ppm.url, model: ppm.model, head, maxItemsPerRequest: 3 });
        await backend.score(Array.from({ length: 7 }, () => item));
        expect(ppm.requests.slice(before).map((body) => (body["input"] as string[]).length)).toEqual([3, 3, 1]);
    });

    it("rejects L2-normalized states, explaining the pooler config", async () => {
        const backend = new PoolingPpm({ baseURL: ppm.url, model: ppm.model, head, sendUseActivation: false });
        await expect(backend.score([item])).rejects.toMatchObject({ code: "BACKEND_RESPONSE_INVALID", message: expect.stringContaining('"use_activation": false') });
    });

    it("rejects a hidden size that does not fit the head", async () => {
        const backend = new PoolingPpm({ baseURL: ppm.url, model: ppm.model, head: new ValueHead([1, 2, 3]) });
        await expect(backend.score([item])).rejects.toMatchObject({ code: "BACKEND_RESPONSE_INVALID", message: expect.stringContaining("expects a hidden state of 3") });
    });

    it("retries 503 with retry-after and dropped connections, then succeeds", async () => {
        const delays: number[] = [];
        const backend = new PoolingPpm({ baseURL: ppm.url, model: ppm.model, head, sleep: recordSleep(delays), random: () => 0 });
        ppm.inject({ kind: "status", status: 503, retryAfter: "2" });
        ppm.inject({ kind: "drop" });
        const [score] = await backend.score([item]);
        expect(typeof score).toBe("number");
        expect(delays).toEqual([2000, 500]);
    });

    it("gives up after maxRetries with the attempts in the message", async () => {
        const backend = new PoolingPpm({ baseURL: ppm.url, model: ppm.model, head, maxRetries: 2, sleep: recordSleep([]) });
        ppm.inject({ kind: "status", status: 500, times: 3 });
        await expect(backend.score([item])).rejects.toMatchObject({ code: "BACKEND_HTTP", retryable: true, message: expect.stringMatching(/HTTP 500 from http:\/\/127\.0\.0\.1:\d+\/pooling.*gave up after 3 attempts/) });
    });

    it("does not retry 400 (input too long), malformed JSON, wrong shapes or wrong counts", async () => {
        const delays: number[] = [];
        const backend = new PoolingPpm({ baseURL: ppm.url, model: ppm.model, head, sleep: recordSleep(delays) });
        await expect(backend.score([{ question: "q", partialSolution: "x".repeat(600) }])).rejects.toMatchObject({ code: "BACKEND_HTTP", retryable: false, message: expect.stringContaining("maximum context length") });
        ppm.inject({ kind: "malformed" });
        await expect(backend.score([item])).rejects.toMatchObject({ code: "BACKEND_RESPONSE_INVALID", message: expect.stringContaining("not valid JSON") });
        ppm.inject({ kind: "wrong-shape" });
        await expect(backend.score([item])).rejects.toMatchObject({ code: "BACKEND_RESPONSE_INVALID", message: expect.stringContaining("expected a vLLM pooling response") });
        ppm.inject({ kind: "wrong-count" });
        await expect(backend.score([item, item])).rejects.toMatchObject({ code: "BACKEND_RESPONSE_INVALID", message: expect.stringContaining("sent 2 inputs, got 1 results") });
        expect(delays).toEqual([]);
    });

    it("maps an unknown model to BACKEND_MODEL_NOT_FOUND and a wrong path to a hint about the base URL", async () => {
        await expect(new PoolingPpm({ baseURL: ppm.url, model: "nope", head }).score([item])).rejects.toMatchObject({ code: "BACKEND_MODEL_NOT_FOUND" });
        await expect(new PoolingPpm({ baseURL: `${ppm.url}/api`, model: ppm.model, head }).score([item])).rejects.toMatchObject({
            code: "BACKEND_HTTP",
            message: expect.stringContaining("has no /pooling endpoint"),
        });
    });

    it("names the URL when the server is unreachable", async () => {
        const backend = new PoolingPpm({ baseURL: "http://127.0.0.1:9", model: "m", head, maxRetries: 0 });
        await expect(backend.score([item])).rejects.toMatchObject({ code: "BACKEND_UNAVAILABLE", message: expect.stringContaining("cannot reach http://127.0.0.1:9/pooling") });
    });

    it("holds at most maxInFlight requests", async () => {
        const server = await startFixturePoolingServer({ flavor: "ppm" });
        try {
            server.setLatency(50);
            const backend = new PoolingPpm({ baseURL: server.url, model: server.model, head, maxInFlight: 2, maxItemsPerRequest: 1 });
            await backend.score(Array.from({ length: 6 }, () => item));
            expect(server.maxConcurrent).toBe(2);
        } finally {
            await server.close();
        }
    });

    it("balances over two servers and fails over", async () => {
        const second = await startFixturePoolingServer({ flavor: "ppm" });
        try {
            const backend = new PoolingPpm({ baseURL: [`http://127.0.0.1:9`, second.url], model: second.model, head, sleep: recordSleep([]) });
            expect(await backend.score([item])).toHaveLength(1);
        } finally {
            await second.close();
        }
    });

    it("validates options with CONFIG_INVALID", () => {
        expect(() => new PoolingPpm({ model: "m", head, env: {} })).toThrow(/RSTAR_REWARD_BASE_URL/);
        expect(() => new PoolingPpm({ baseURL: "http://x", head, env: {} })).toThrow(/RSTAR_REWARD_MODEL/);
        expect(() => new PoolingPpm({ baseURL: "ftp://x", model: "m", head })).toThrow(/http or https/);
        expect(new PoolingPpm({ head, env: { RSTAR_REWARD_BASE_URL: "http://a:1/v1/", RSTAR_REWARD_MODEL: "m" } }).name).toBe("ppm-http:http://a:1");
    });
});

describe("HttpPrm", () => {
    it("splits rStar steps and formats Qwen2.5-Math-PRM's input with <extra_0> after each step", () => {
        expect(splitRstarSteps("")).toEqual([]);
        expect(splitRstarSteps("\nA\n<end_of_step>\nB<end_of_step>\n<answer>\\boxed{1}<end_of_answer>")).toEqual(["A", "B", "<answer>\\boxed{1}<end_of_answer>"]);
        expect(qwenPrmInput("Q?", ["a", "b"])).toBe(
            "<|im_start|>system\nPlease reason step by step, and put your final answer within \\boxed{}.<|im_end|>\n<|im_start|>user\nQ?<|im_end|>\n<|im_start|>assistant\na<extra_0>b<extra_0><|im_end|><|endoftext|>",
        );
    });

    it("aggregates step probabilities by last, min, product or mean and maps them to [-1, 1]", async () => {
        const solution = "\nfirst step<end_of_step>\nsecond step<end_of_step>\nthird";
        const probabilities = ["first step", "second step", "third"].map(fakeStepProbability);
        for (const aggregate of ["last", "min", "product", "mean"] as const) {
            const backend = new HttpPrm({ baseURL: prm.url, model: prm.model, aggregate });
            const [score] = await backend.score([{ question: "Q", partialSolution: solution }]);
            expect(score).toBeCloseTo(2 * aggregateSteps(probabilities, aggregate) - 1, 12);
        }
    });

    it("scores an empty partial solution as emptyScore without a request", async () => {
        const before = prm.requests.length;
        const backend = new HttpPrm({ baseURL: prm.url, model: prm.model, emptyScore: 0.25 });
        expect(await backend.score([{ question: "Q", partialSolution: "" }])).toEqual([0.25]);
        expect(prm.requests.length).toBe(before);
    });

    it("rejects a step-count mismatch (server not pooling STEP)", async () => {
        const backend = new HttpPrm({ baseURL: prm.url, model: prm.model, formatInput: (question, steps) => qwenPrmInput(question, [steps.join(" ")]) });
        await expect(backend.score([{ question: "Q", partialSolution: "a<end_of_step>b<end_of_step>" }])).rejects.toMatchObject({
            code: "BACKEND_RESPONSE_INVALID",
            message: expect.stringContaining("1 step scores for 2 steps"),
        });
    });
});
