import { RstarError } from "../errors/index.js";
import { invalidResponseError } from "../llm/index.js";
import { RewardHttpClient, inChunks, resolveHttpRewardOptions, type HttpRewardOptions } from "./http-client.js";
import { ppmInputText, type RewardInputFormatter } from "./input-text.js";
import type { RewardItem, RewardModel } from "./types.js";
import type { ValueHead } from "./value-head.js";
import { lastTokenState, readPoolingResponse } from "./vllm-pooling.js";

export interface PoolingPpmOptions extends HttpRewardOptions {
    /** The value head applied (in TypeScript) to the last token's hidden state. */
    head: ValueHead;
    /**
     * `"pooling"` (default): `POST /pooling`, vLLM's pooling API. `"embeddings"`: `POST /v1/embeddings`
     * (OpenAI shape; the server must pool LAST without normalizing).
     */
    endpoint?: "pooling" | "embeddings";
    /**
     * Pooling task sent with `/pooling`. `"embed"` (default) returns one vector per input (serve with
     * `--pooler-config '{"pooling_type": "LAST", "use_activation": false}'`); `"token_embed"` returns every token's
     * state and the last row is used (no pooler config needed, but much larger answers). `null` sends no task.
     */
    task?: string | null;
    /**
     * Ask the server not to L2-normalize (`use_activation: false`, on both endpoints; recent vLLM). Older vLLM took `normalize: false`
     * instead (newer ones reject it): pass `extraBody: { use_activation: undefined, normalize: false }` there.
     * Defaults to true.
     */
    sendUseActivation?: boolean;
    /**
     * Reject hidden states whose L2 norm is 1 (± 1e-4): that means the server normalized them and the head would
     * score garbage. Defaults to true.
     */
    rejectNormalized?: boolean;
    /** Input text for an item. Defaults to `ppmInputText` (the SFT prompt plus the partial solution). */
    formatInput?: RewardInputFormatter;
    /** Name for logs. Defaults to `ppm-http:<baseURL>`. */
    name?: string;
}

/**
 * The PPM over HTTP: the backbone's last-token hidden state from a vLLM-style pooling server, and the linear value head
 * in TypeScript: score = tanh((w · h + b) / scale).
 */
export class PoolingPpm implements RewardModel, AsyncDisposable {
    readonly specVersion = "rstar-reward-model/1" as const;
    readonly name: string;
    readonly model: string;
    private readonly client: RewardHttpClient;
    private readonly head: ValueHead;
    private readonly endpoint: "pooling" | "embeddings";
    private readonly task: string | null;
    private readonly sendUseActivation: boolean;
    private readonly rejectNormalized: boolean;
    private readonly formatInput: RewardInputFormatter;

    constructor(options: PoolingPpmOptions) {
        const settings = resolveHttpRewardOptions(options);
        this.name = options.name ?? `ppm-http:${settings.baseURLs.join(",")}`;
        this.model = settings.model;
        this.client = new RewardHttpClient(settings, { ...options, describe: this.name });
        this.head = options.head;
        this.endpoint = options.endpoint ?? "pooling";
        this.task = options.task === undefined ? "embed" : options.task;
        this.sendUseActivation = options.sendUseActivation ?? true;
        this.rejectNormalized = options.rejectNormalized ?? true;
        this.formatInput = options.formatInput ?? ppmInputText;
    }

    /** Requests in flight right now. */
    get inFlight(): number {
        return this.client.inFlight;
    }

    async score(items: readonly RewardItem[], options: { signal?: AbortSignal } = {}): Promise<number[]> {
        this.client.assertUsable();
        if (options.signal?.aborted) throw new RstarError("ABORTED", "scoring was aborted before it started", { cause: options.signal.reason });
        if (items.length === 0) return [];
        const texts = items.map((item) => this.formatInput(item));
        return inChunks(texts, this.client.settings.maxItemsPerRequest, (chunk) => this.scoreTexts(chunk, options.signal));
    }

    async dispose(): Promise<void> {
        this.client.dispose();
    }

    async [Symbol.asyncDispose](): Promise<void> {
        await this.dispose();
    }

    private async scoreTexts(texts: string[], signal: AbortSignal | undefined): Promise<number[]> {
        const body: Record<string, unknown> = { model: this.model, input: texts, encoding_format: "float" };
        const path = this.endpoint === "pooling" ? "/pooling" : "/v1/embeddings";
        if (this.endpoint === "pooling" && this.task !== null) body["task"] = this.task;
        if (this.sendUseActivation) body["use_activation"] = false;
        for (const [key, value] of Object.entries(this.client.settings.extraBody)) {
            if (value === undefined) delete body[key];
            else body[key] = value;
        }
        const { url, value, text } = await this.client.request(path, "POST", body, signal);
        const pooled = readPoolingResponse(url, value, text, texts.length);
        return pooled.map((entry, index) => {
            const hidden = lastTokenState(entry);
            if (hidden.length !== this.head.hiddenSize) {
                throw invalidResponseError(
                    url,
                    `result ${index} has ${hidden.length} values but the value head expects a hidden state of ${this.head.hiddenSize} (is the server pooling the right model, without dimensions/matryoshka?)`,
                    text,
                );
            }
            if (this.rejectNormalized && Math.abs(norm(hidden) - 1) < 1e-4) {
                throw invalidResponseError(
                    url,
                    `result ${index} is L2-normalized, so it is not the raw hidden state the value head was trained on; serve with --pooler-config '{"pooling_type": "LAST", "use_activation": false}' (older vLLM: "normalize": false)`,
                    text.slice(0, 200),
                );
            }
            return this.head.score(hidden);
        });
    }
}

function norm(values: readonly number[]): number {
    let sum = 0;
    for (const value of values) sum += value * value;
    return Math.sqrt(sum);
}
