import { afterEach, describe, expect, it } from "vitest";
import { RstarError } from "../../src/errors/index.js";
import type { RewardItem, RewardModel } from "../../src/reward/index.js";

/**
 * The behaviour every RewardModel must show, tested through the interface only. Run it for each backend from a
 * `test/reward/*.test.ts` (or `test/llm/*`) file with a factory.
 */
export interface RewardModelConformanceOptions {
    /** Shown in test names. */
    name: string;
    /** A fresh model; disposed (when it has `dispose`) after each test. */
    create: () => RewardModel | Promise<RewardModel>;
    /** Items to score; defaults to a small set of rStar partial solutions. */
    items?: readonly RewardItem[];
    /**
     * Allowed difference between a score computed alone and inside a batch (llama.cpp batches may differ in the last
     * bits). Defaults to 1e-9.
     */
    tolerance?: number;
    /** Different items get different scores on the sample set (false for a constant double). Defaults to true. */
    discriminates?: boolean;
    /** Makes the next score call slow (at least ~1 s) so an in-flight abort can be observed; omit when impossible. */
    slowDown?: { before: () => void | Promise<void>; after: () => void | Promise<void> };
    /** Whether the model has `dispose()` and rejects later calls with BACKEND_DISPOSED. Defaults to true. */
    disposable?: boolean;
    /** Optional golden scores: `expected(item)` must match within `goldenTolerance` (default 1e-6). */
    expected?: (item: RewardItem) => number;
    goldenTolerance?: number;
}

export const SAMPLE_REWARD_ITEMS: readonly RewardItem[] = [
    { question: "Compute 3 + 4 * 5.", partialSolution: "" },
    { question: "Compute 3 + 4 * 5.", partialSolution: "\n<code>\nx = 4 * 5\n<end_of_step>" },
    { question: "Compute 3 + 4 * 5.", partialSolution: "\n<code>\nx = 4 * 5\n<end_of_step>\ny = 3 + x\nprint(y)\n<end_of_code>\n<output>23<end_of_output>\n<answer>\\boxed{23}<end_of_answer>" },
    { question: "Compute 3 + 4 * 5.", partialSolution: "\n<code>\nx = 3 + 4\n<end_of_step>\ny = x * 5\nprint(y)\n<end_of_code>\n<output>35<end_of_output>\n<answer>\\boxed{35}<end_of_answer>" },
    { question: "Maya has 12 apples and buys 5 more. How many now?", partialSolution: "\n<code>\napples = 12 + 5\n<end_of_step>" },
    { question: "Maya has 12 apples and buys 5 more. How many now?", partialSolution: "\n<code>\napples = 12 - 5\n<end_of_step>" },
];

type Disposable = RewardModel & { dispose?: () => Promise<void>; [Symbol.asyncDispose]?: () => Promise<void> };

export function describeRewardModelConformance(options: RewardModelConformanceOptions): void {
    const items = options.items ?? SAMPLE_REWARD_ITEMS;
    const tolerance = options.tolerance ?? 1e-9;

    describe(`RewardModel conformance: ${options.name}`, () => {
        const created: Disposable[] = [];
        const make = async () => {
            const model = (await options.create()) as Disposable;
            created.push(model);
            return model;
        };
        afterEach(async () => {
            await Promise.all(created.splice(0).map((model) => model.dispose?.()));
        });

        it("states the spec version and a name", async () => {
            const model = await make();
            expect(model.specVersion).toBe("rstar-reward-model/1");
            expect(typeof model.name).toBe("string");
            expect(model.name.length).toBeGreaterThan(0);
        });

        it("returns one finite score in [-1, 1] per item, in order; [] for no items", async () => {
            const model = await make();
            expect(await model.score([])).toEqual([]);
            const scores = await model.score(items);
            expect(scores).toHaveLength(items.length);
            for (const score of scores) {
                expect(Number.isFinite(score)).toBe(true);
                expect(score).toBeGreaterThanOrEqual(-1);
                expect(score).toBeLessThanOrEqual(1);
            }
            const reversed = await model.score([...items].reverse());
            expectClose(reversed.reverse(), scores, tolerance);
        });

        it("is deterministic, and a score does not depend on its batch", async () => {
            const model = await make();
            const first = await model.score(items);
            const second = await model.score(items);
            expectClose(second, first, tolerance);
            const alone = [];
            for (const item of items) alone.push(...(await model.score([item])));
            expectClose(alone, first, tolerance);
        });

        it.runIf(options.discriminates ?? true)("tells different partial solutions apart", async () => {
            const model = await make();
            const scores = await model.score(items);
            expect(new Set(scores.map((score) => score.toFixed(9))).size).toBeGreaterThan(1);
        });

        it("scores a large batch and concurrent calls consistently", async () => {
            const model = await make();
            const many = Array.from({ length: 40 }, (_, index) => items[index % items.length] as RewardItem);
            const [batch, ...parts] = await Promise.all([model.score(many), model.score(items.slice(0, 2)), model.score(items.slice(2))]);
            const reference = await model.score(items);
            expectClose(batch ?? [], many.map((_, index) => reference[index % items.length] as number), tolerance);
            expectClose(parts.flat(), reference, tolerance);
        });

        it.runIf(options.expected !== undefined)("matches the golden scores", async () => {
            const model = await make();
            const scores = await model.score(items);
            items.forEach((item, index) => {
                expect(Math.abs((scores[index] as number) - (options.expected?.(item) ?? 0))).toBeLessThanOrEqual(options.goldenTolerance ?? 1e-6);
            });
        });

        it("rejects with ABORTED when the signal is already aborted", async () => {
            const model = await make();
            const controller = new AbortController();
            controller.abort();
            await expect(model.score(items, { signal: controller.signal })).rejects.toMatchObject({ code: "ABORTED" });
        });

        it.runIf(options.slowDown !== undefined)("rejects with ABORTED promptly when aborted in flight", async () => {
            const model = await make();
            await options.slowDown?.before();
            try {
                const controller = new AbortController();
                const started = Date.now();
                const pending = model.score(items, { signal: controller.signal });
                setTimeout(() => controller.abort(), 50);
                await expect(pending).rejects.toMatchObject({ code: "ABORTED" });
                expect(Date.now() - started).toBeLessThan(900);
            } finally {
                await options.slowDown?.after();
            }
        });

        it.runIf(options.disposable ?? true)("rejects calls after dispose with BACKEND_DISPOSED", async () => {
            const model = await make();
            expect(typeof model.dispose).toBe("function");
            await (model[Symbol.asyncDispose]?.() ?? model.dispose?.());
            const error = await model.score(items).catch((caught: unknown) => caught);
            expect(RstarError.isInstance(error)).toBe(true);
            expect((error as RstarError).code).toBe("BACKEND_DISPOSED");
        });
    });
}

function expectClose(actual: readonly number[], expected: readonly number[], tolerance: number): void {
    expect(actual).toHaveLength(expected.length);
    actual.forEach((value, index) => {
        const want = expected[index] as number;
        if (Math.abs(value - want) > tolerance) expect.fail(`score ${index}: ${value} differs from ${want} by more than ${tolerance}`);
    });
}
