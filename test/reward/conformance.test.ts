import { afterAll, beforeAll } from "vitest";
import { BatchingRewardModel, HttpPrm, PoolingPpm, ScriptedRewardModel, ValueHead, type RewardItem } from "../../src/reward/index.js";
import { describeRewardModelConformance } from "../conformance/reward-model.js";
import { FAKE_HIDDEN_SIZE, fakeHiddenState, startFixturePoolingServer, type FixturePoolingServer } from "./fixture-pooling-server.js";
import { ppmInputText } from "../../src/reward/index.js";

const head = new ValueHead(
    Array.from({ length: FAKE_HIDDEN_SIZE }, (_, index) => Math.cos(index * 1.3) * 0.8),
    0.1,
);
const expectedPpm = (item: RewardItem) => head.score(fakeHiddenState(ppmInputText(item)));

// The scripted double.
describeRewardModelConformance({
    name: "ScriptedRewardModel",
    create: () => new ScriptedRewardModel((item) => Math.tanh(item.partialSolution.length / 50 - 1 + item.question.length / 1000)),
    disposable: false,
});

// The batching/caching wrapper over the scripted double.
describeRewardModelConformance({
    name: "BatchingRewardModel over ScriptedRewardModel",
    create: () => new BatchingRewardModel(new ScriptedRewardModel((item) => Math.tanh(item.partialSolution.length / 50 - 1)), { maxBatchSize: 4 }),
});

let ppmServer: FixturePoolingServer;
let prmServer: FixturePoolingServer;
beforeAll(async () => {
    ppmServer = await startFixturePoolingServer({ flavor: "ppm" });
    prmServer = await startFixturePoolingServer({ flavor: "prm" });
});
afterAll(async () => {
    await ppmServer.close();
    await prmServer.close();
});

const slowPpm = { before: () => ppmServer.setLatency(2_000), after: () => ppmServer.setLatency(0) };

for (const variant of [
    { label: "/pooling task embed", options: {} },
    { label: "/pooling task token_embed (last row)", options: { task: "token_embed" } },
    { label: "/pooling base64", options: { extraBody: { encoding_format: "base64" } } },
    { label: "/v1/embeddings", options: { endpoint: "embeddings" as const } },
]) {
    describeRewardModelConformance({
        name: `PoolingPpm against a vLLM fixture server, ${variant.label}`,
        create: () => new PoolingPpm({ baseURL: ppmServer.url, model: ppmServer.model, head, maxRetries: 0, maxItemsPerRequest: 8, ...variant.options }),
        expected: expectedPpm,
        goldenTolerance: variant.label.includes("base64") ? 1e-5 : 1e-9,
        tolerance: 0,
        slowDown: slowPpm,
    });
}

describeRewardModelConformance({
    name: "BatchingRewardModel over PoolingPpm",
    create: () => new BatchingRewardModel(new PoolingPpm({ baseURL: `${ppmServer.url}/v1`, model: ppmServer.model, head, maxRetries: 0 }), { maxBatchSize: 8 }),
    expected: expectedPpm,
    slowDown: slowPpm,
});

describeRewardModelConformance({
    name: "HttpPrm (Qwen2.5-Math-PRM shapes) against a vLLM fixture server",
    create: () => new HttpPrm({ baseURL: prmServer.url, model: prmServer.model, maxRetries: 0, maxItemsPerRequest: 8 }),
    slowDown: { before: () => prmServer.setLatency(2_000), after: () => prmServer.setLatency(0) },
});
