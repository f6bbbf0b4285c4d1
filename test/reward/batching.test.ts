import { describe, expect, it } from "vitest";
import { BatchingRewardModel, ScriptedRewardModel, type RewardItem, type RewardModel } from "../../src/reward/index.js";

const item = (partialSolution: string, question = "Q"): RewardItem => ({ question, partialSolution });
const scripted = () => new ScriptedRewardModel((entry) => Math.tanh(entry.partialSolution.length / 10));

/** A model whose calls wait until released, to observe batching. */
function gated(): RewardModel & { calls: RewardItem[][]; release: () => void; fail: (error: Error) => void } {
    let waiting: { resolve: () => void; reject: (error: Error) => void }[] = [];
    const calls: RewardItem[][] = [];
    return {
        specVersion: "rstar-reward-model/1",
        name: "gated",
        calls,
        async score(items) {
            calls.push([...items]);
            await new Promise<void>((resolve, reject) => waiting.push({ resolve, reject }));
            return items.map((entry) => entry.partialSolution.length / 100);
        },
        release() {
            const current = waiting;
            waiting = [];
            for (const waiter of current) waiter.resolve();
        },
        fail(error) {
            const current = waiting;
            waiting = [];
            for (const waiter of current) waiter.reject(error);
        },
    };
}

describe("BatchingRewardModel", () => {
    it("coalesces concurrent calls into one batch within maxWaitMs", async () => {
        const inner = scripted();
        const model = new BatchingRewardModel(inner, { maxWaitMs: 5 });
        const results = await Promise.all([model.score([item("a")]), model.score([item("bb"), item("ccc")]), model.score([item("dddd")])]);
        expect(inner.calls).toHaveLength(1);
        expect(inner.calls[0]?.map((entry) => entry.partialSolution)).toEqual(["a", "bb", "ccc", "dddd"]);
        expect(results.flat()).toEqual(["a", "bb", "ccc", "dddd"].map((text) => Math.tanh(text.length / 10)));
    });

    it("sends a batch as soon as maxBatchSize items are queued", async () => {
        const inner = scripted();
        const model = new BatchingRewardModel(inner, { maxBatchSize: 2, maxWaitMs: 10_000 });
        await model.score([item("a"), item("b"), item("c"), item("d")]);
        expect(inner.calls.map((call) => call.length)).toEqual([2, 2]);
    });

    it("scores each distinct item once per run: cache hits and shared in-flight items", async () => {
        const inner = gated();
        const model = new BatchingRewardModel(inner, { maxWaitMs: 0 });
        const first = model.score([item("x"), item("x"), item("y")]);
        await new Promise((resolve) => setTimeout(resolve, 5));
        const second = model.score([item("x")]);
        inner.release();
        expect(await first).toEqual([0.01, 0.01, 0.01]);
        expect(await second).toEqual([0.01]);
        expect(await model.score([item("y"), item("x")])).toEqual([0.01, 0.01]);
        expect(inner.calls.flat().map((entry) => entry.partialSolution)).toEqual(["x", "y"]);
        expect(model.stats).toEqual({ requested: 6, cacheHits: 2, sharedHits: 2, scored: 2, batches: 1 });
    });

    it("keys on question and partial solution together", async () => {
        const inner = scripted();
        const model = new BatchingRewardModel(inner);
        await model.score([item("ab", "Q1"), item("b", "Q1a")]);
        expect(inner.calls.flat()).toHaveLength(2);
    });

    it("evicts the least recently used score beyond cacheSize", async () => {
        const inner = scripted();
        const model = new BatchingRewardModel(inner, { cacheSize: 2, maxWaitMs: 0 });
        await model.score([item("a")]);
        await model.score([item("b")]);
        await model.score([item("a")]); // a is now most recent
        await model.score([item("c")]); // evicts b
        expect(model.cached).toBe(2);
        await model.score([item("a")]);
        await model.score([item("b")]);
        expect(inner.calls.flat().map((entry) => entry.partialSolution)).toEqual(["a", "b", "c", "b"]);
    });

    it("rejects every caller of a failed batch and caches nothing", async () => {
        const inner = gated();
        const model = new BatchingRewardModel(inner, { maxWaitMs: 0 });
        const a = model.score([item("a")]);
        const b = model.score([item("a"), item("b")]);
        await new Promise((resolve) => setTimeout(resolve, 5));
        inner.fail(new Error("server down"));
        await expect(a).rejects.toThrow("server down");
        await expect(b).rejects.toThrow("server down");
        const retry = model.score([item("a")]);
        await new Promise((resolve) => setTimeout(resolve, 5));
        inner.release();
        expect(await retry).toEqual([0.01]);
    });

    it("an abort rejects that caller only; an item nobody waits for is dropped from the queue", async () => {
        const inner = scripted();
        const model = new BatchingRewardModel(inner, { maxWaitMs: 30 });
        const controller = new AbortController();
        const aborted = model.score([item("a"), item("shared")], { signal: controller.signal });
        const kept = model.score([item("shared")]);
        controller.abort();
        await expect(aborted).rejects.toMatchObject({ code: "ABORTED" });
        expect(await kept).toEqual([Math.tanh(0.6)]);
        expect(inner.calls.flat().map((entry) => entry.partialSolution)).toEqual(["shared"]);
    });

    it("dispose rejects queued items and later calls, and disposes the wrapped model", async () => {
        let disposed = false;
        const inner = Object.assign(scripted(), { dispose: async () => void (disposed = true) });
        const model = new BatchingRewardModel(inner, { maxWaitMs: 1_000 });
        const queued = model.score([item("a")]);
        await model.dispose();
        await expect(queued).rejects.toMatchObject({ code: "BACKEND_DISPOSED" });
        await expect(model.score([item("a")])).rejects.toMatchObject({ code: "BACKEND_DISPOSED" });
        expect(disposed).toBe(true);
    });
});
