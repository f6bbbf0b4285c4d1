/**
 * The reward-model contract: a process reward model (the PPM, or any PRM) scores a question plus a partial solution.
 *
 * A score is a number in [-1, 1]; higher means the partial solution is more likely to lead to a correct answer.
 * (The PPM's raw head output h is mapped to tanh(h / 5), as the official inference code does.)
 *
 * @remarks Not in the contract: batching limits, caching, retries and transport. Implementations batch as they see fit;
 * a caching wrapper can sit in front of any implementation. Scores must be deterministic for the same input.
 */
export interface RewardModel {
    readonly specVersion: "rstar-reward-model/1";
    /** A short name for logs and run configs, e.g. "ppm:models/ppm" or "scripted". */
    readonly name: string;
    /** One score per item, in the same order. */
    score(items: readonly RewardItem[], options?: { signal?: AbortSignal }): Promise<number[]>;
}

export interface RewardItem {
    question: string;
    /** The trajectory so far, exactly as the policy saw it after the prompt (step texts concatenated). */
    partialSolution: string;
}
