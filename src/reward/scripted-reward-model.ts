import { RstarError } from "../errors/index.js";
import type { RewardItem, RewardModel } from "./types.js";

/**
 * A test double: scores with a given function and records every call. For search tests only; a real reward model
 * (the PPM over llama.cpp or HTTP) implements the same interface.
 */
export class ScriptedRewardModel implements RewardModel {
    readonly specVersion = "rstar-reward-model/1" as const;
    readonly name: string;
    readonly calls: RewardItem[][] = [];

    constructor(
        private readonly scoreOne: (item: RewardItem) => number,
        name = "scripted",
    ) {
        this.name = name;
    }

    async score(items: readonly RewardItem[], options: { signal?: AbortSignal } = {}): Promise<number[]> {
        if (options.signal?.aborted) throw new RstarError("ABORTED", "scoring was aborted before it started", { cause: options.signal.reason });
        this.calls.push([...items]);
        return items.map((item) => Math.max(-1, Math.min(1, this.scoreOne(item))));
    }
}
