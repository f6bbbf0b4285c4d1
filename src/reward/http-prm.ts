import { RstarError } from "../errors/index.js";
import { invalidResponseError } from "../llm/index.js";
import { RewardHttpClient, inChunks, resolveHttpRewardOptions, type HttpRewardOptions } from "./http-client.js";
import type { RewardItem, RewardModel } from "./types.js";
import { readPoolingResponse } from "./vllm-pooling.js";

/** How per-step probabilities become one score for the partial solution. */
export type StepAggregation = "last" | "min" | "product" | "mean";

export const QWEN_PRM_STEP_TAG = "<extra_0>";
export const QWEN_PRM_SYSTEM_PROMPT = "Please reason step by step, and put your final answer within \\boxed{}.";

/**
 * Qwen2.5-Math-PRM's input, as its model card builds it with the chat template: system, user question, then the
 * assistant's steps each followed by `<extra_0>`.
 */
export function qwenPrmInput(question: string, steps: readonly string[]): string {
    const body = steps.map((step) => `${step}${QWEN_PRM_STEP_TAG}`).join("");
    return (
        `<|im_start|>system\n${QWEN_PRM_SYSTEM_PROMPT}<|im_end|>\n<|im_start|>user\n${question}<|im_end|>\n` +
        `<|im_start|>assistant\n${body}<|im_end|><|endoftext|>`
    );
}

/** rStar steps end at `<end_of_step>`; a final answer ends at `<end_of_answer>`. Empty pieces are dropped. */
export function splitRstarSteps(partialSolution: string): string[] {
    return partialSolution
        .split(/<end_of_step>|(?<=<end_of_answer>)/)
        .map((step) => step.trim())
        .filter((step) => step !== "");
}

export interface HttpPrmOptions extends HttpRewardOptions {
    /** Splits a partial solution into steps. Defaults to `splitRstarSteps`. */
    splitSteps?: (partialSolution: string) => string[];
    /** Builds the model input from the question and the steps. Defaults to `qwenPrmInput` (Qwen2.5-Math-PRM). */
    formatInput?: (question: string, steps: readonly string[]) => string;
    /** Combines the per-step probabilities of being correct. Defaults to "last" (the newest step's value). */
    aggregate?: StepAggregation;
    /** Column of a `[p_negative, p_positive]` row that is the positive class. Defaults to 1. */
    positiveIndex?: number;
    /**
     * Pooling task to send. Defaults to none: vLLM then picks the model's token task (`token_classify` for
     * `Qwen2ForProcessRewardModel`). Older vLLM builds named it "encode" or "reward".
     */
    task?: string | null;
    /** Score for a partial solution with no steps yet (the root), which is not sent. Defaults to 0. */
    emptyScore?: number;
    /** Name for logs. Defaults to `prm-http:<baseURL>`. */
    name?: string;
}

/**
 * An off-the-shelf process reward model over HTTP (e.g. Qwen2.5-Math-PRM-7B on vLLM's `/pooling`): per-step
 * probabilities p at each step tag, aggregated, mapped to [-1, 1] as 2p - 1.
 */
export class HttpPrm implements RewardModel, AsyncDisposable {
    readonly specVersion = "rstar-reward-model/1" as const;
    readonly name: string;
    readonly model: string;
    private readonly client: RewardHttpClient;
    private readonly splitSteps: (partialSolution: string) => string[];
    private readonly formatInput: (question: string, steps: readonly string[]) => string;
    private readonly aggregate: StepAggregation;
    private readonly positiveIndex: number;
    private readonly task: string | null;
    private readonly emptyScore: number;

    constructor(options: HttpPrmOptions) {
        const settings = resolveHttpRewardOptions(options);
        this.name = options.name ?? `prm-http:${settings.baseURLs.join(",")}`;
        this.model = settings.model;
        this.client = new RewardHttpClient(settings, { ...options, describe: this.name });
        this.splitSteps = options.splitSteps ?? splitRstarSteps;
        this.formatInput = options.formatInput ?? qwenPrmInput;
        this.aggregate = options.aggregate ?? "last";
        this.positiveIndex = options.positiveIndex ?? 1;
        this.task = options.task ?? null;
        this.emptyScore = options.emptyScore ?? 0;
        if (!["last", "min", "product", "mean"].includes(this.aggregate)) throw new RstarError("CONFIG_INVALID", `aggregate must be last, min, product or mean, got "${this.aggregate}"`);
        if (!(this.emptyScore >= -1 && this.emptyScore <= 1)) throw new RstarError("CONFIG_INVALID", `emptyScore must be in [-1, 1], got ${this.emptyScore}`);
    }

    async score(items: readonly RewardItem[], options: { signal?: AbortSignal } = {}): Promise<number[]> {
        this.client.assertUsable();
        if (options.signal?.aborted) throw new RstarError("ABORTED", "scoring was aborted before it started", { cause: options.signal.reason });
        const prepared = items.map((item) => ({ item, steps: this.splitSteps(item.partialSolution) }));
        const toSend = prepared.filter((entry) => entry.steps.length > 0);
        const sentScores = await inChunks(toSend, this.client.settings.maxItemsPerRequest, (chunk) => this.scoreChunk(chunk, options.signal));
        let next = 0;
        return prepared.map((entry) => (entry.steps.length === 0 ? this.emptyScore : (sentScores[next++] as number)));
    }

    async dispose(): Promise<void> {
        this.client.dispose();
    }

    async [Symbol.asyncDispose](): Promise<void> {
        await this.dispose();
    }

    private async scoreChunk(chunk: { item: RewardItem; steps: string[] }[], signal: AbortSignal | undefined): Promise<number[]> {
        const body: Record<string, unknown> = {
            model: this.model,
            input: chunk.map(({ item, steps }) => this.formatInput(item.question, steps)),
            encoding_format: "float",
        };
        if (this.task !== null) body["task"] = this.task;
        for (const [key, value] of Object.entries(this.client.settings.extraBody)) {
            if (value === undefined) delete body[key];
            else body[key] = value;
        }
        const { url, value, text } = await this.client.request("/pooling", "POST", body, signal);
        const pooled = readPoolingResponse(url, value, text, chunk.length);
        return pooled.map((rows, index) => {
            const steps = chunk[index]?.steps.length ?? 0;
            const probabilities = rows.map((row) => (Array.isArray(row) ? row[this.positiveIndex] : row));
            if (probabilities.length !== steps) {
                throw invalidResponseError(
                    url,
                    `result ${index} has ${probabilities.length} step scores for ${steps} steps (is the server pooling with STEP and the step tag id set? For Qwen2.5-Math-PRM vLLM sets step_tag_id 151651 itself)`,
                    text,
                );
            }
            for (const p of probabilities) {
                if (typeof p !== "number" || !(p >= 0 && p <= 1)) {
                    throw invalidResponseError(url, `result ${index} holds ${String(p)}, not a probability (column ${this.positiveIndex} of [p_neg, p_pos] rows)`, text);
                }
            }
            return 2 * aggregateSteps(probabilities as number[], this.aggregate) - 1;
        });
    }
}

export function aggregateSteps(probabilities: readonly number[], how: StepAggregation): number {
    if (probabilities.length === 0) return 0.5;
    switch (how) {
        case "last":
            return probabilities[probabilities.length - 1] as number;
        case "min":
            return Math.min(...probabilities);
        case "product":
            return probabilities.reduce((product, p) => product * p, 1);
        case "mean":
            return probabilities.reduce((sum, p) => sum + p, 0) / probabilities.length;
    }
}
