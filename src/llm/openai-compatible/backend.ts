import { RstarError } from "../../errors/index.js";
import {
    LLM_BACKEND_SPEC_VERSION,
    type Completion,
    type FinishReason,
    type GenerateRequest,
    type GenerateResult,
    type LlmBackend,
    type ModelInfo,
    type TokenUsage,
} from "../types.js";
import { validateGenerateRequest } from "../validate-request.js";
import { resolveOptions, type OpenAiCompatibleOptions, type ResolvedOptions } from "./options.js";
import { llamaCppNativeResponseSchema, modelListSchema, openAiCompletionSchema, type LlamaCppNative } from "./response-schemas.js";
import { RetryingJsonClient } from "./retrying-json-client.js";
import { resolveStop, type ReportedStop, type StopResolver } from "./stop-resolution.js";
import { httpStatusError, invalidResponseError } from "./wire-errors.js";

/** One choice as read off the wire, before stop resolution. */
interface WireChoice {
    index: number;
    text: string;
    finishReason: FinishReason;
    reported: ReportedStop;
}

interface WireResult {
    url: string;
    choices: WireChoice[];
    usage: TokenUsage | null;
    model: string | null;
}

/**
 * Policy backend for OpenAI-compatible `/v1/completions` servers: vLLM, SGLang, llama.cpp's `llama-server`, Ollama.
 * Retries, timeouts, the in-flight cap, balancing over several URLs and `n` fallback are described in
 * docs/llm-backends.md.
 */
export class OpenAiCompatibleBackend implements LlmBackend {
    readonly specVersion = LLM_BACKEND_SPEC_VERSION;
    readonly id: string;
    readonly model: string;
    private readonly settings: ResolvedOptions;
    private readonly client: RetryingJsonClient;
    private readonly stopResolver: StopResolver | undefined;
    /** Learned under nStrategy "auto": whether the server honours `n`. */
    private nativeN: boolean | undefined;

    constructor(options: OpenAiCompatibleOptions) {
        this.settings = resolveOptions(options);
        this.model = this.settings.model;
        this.id = `openai:${this.settings.baseURLs.join(",")}`;
        this.client = new RetryingJsonClient(this.settings, {
            fetch: options.fetch,
            sleep: options.sleep,
            random: options.random,
            onRetry: options.onRetry,
            describe: `backend ${this.id}`,
            operation: "generate",
            statusError: (url, status, text) => httpStatusError(url, status, text, this.model),
        });
        this.stopResolver = options.resolveStop;
        if (this.settings.nStrategy === "native") this.nativeN = true;
        if (this.settings.nStrategy === "parallel") this.nativeN = false;
    }

    /** Requests in flight right now, over all endpoints. */
    get inFlight(): number {
        return this.client.inFlight;
    }

    async generate(request: GenerateRequest): Promise<GenerateResult> {
        this.assertUsable();
        validateGenerateRequest(request);
        if (request.signal?.aborted) throw new RstarError("ABORTED", "generate was aborted before it started", { cause: request.signal.reason });

        let results: WireResult[];
        if (request.n === 1 || this.nativeN === false) {
            results = await this.parallel(request, range(0, request.n));
        } else {
            let first: WireResult;
            try {
                first = await this.complete(request, request.n, request.seed, request.signal);
            } catch (error) {
                if (this.nativeN === undefined && RstarError.isInstance(error) && error.details["nUnsupported"] === true) {
                    this.nativeN = false;
                    return this.assemble(request, await this.parallel(request, range(0, request.n)));
                }
                throw error;
            }
            if (first.choices.length >= request.n) {
                this.nativeN = true;
                results = [first];
            } else if (this.nativeN === undefined) {
                // the server ignored `n` (Ollama, llama.cpp builds that drop it): ask for the rest one by one
                this.nativeN = false;
                const rest = await this.parallel(request, range(first.choices.length, request.n));
                results = [first, ...rest];
            } else {
                throw invalidResponseError(first.url, `asked for n=${request.n} completions, got ${first.choices.length}`, "");
            }
        }
        return this.assemble(request, results);
    }

    async listModels(options: { signal?: AbortSignal } = {}): Promise<ModelInfo[]> {
        this.assertUsable();
        const { url, value, text } = await this.client.request("/models", "GET", undefined, options.signal);
        const parsed = modelListSchema.safeParse(value);
        if (!parsed.success) throw invalidResponseError(url, `expected {"data": [{"id": …}]}: ${parsed.error.issues[0]?.message ?? "schema mismatch"}`, text);
        return parsed.data.data.map((entry) => (typeof entry.owned_by === "string" ? { id: entry.id, ownedBy: entry.owned_by } : { id: entry.id }));
    }

    /**
     * Preflight: checks that the configured model is listed by the server, and throws BACKEND_MODEL_NOT_FOUND
     * naming the URL and the models it does serve. (llama.cpp's server ignores the model name in requests,
     * so skip this check there or configure the id it lists.)
     */
    async checkModel(options: { signal?: AbortSignal } = {}): Promise<ModelInfo> {
        const models = await this.listModels(options);
        const found = models.find((model) => model.id === this.model);
        if (found !== undefined) return found;
        const served = models.map((model) => model.id).join(", ") || "(none)";
        throw new RstarError("BACKEND_MODEL_NOT_FOUND", `model "${this.model}" is not served at ${this.settings.baseURLs.join(", ")}; it serves: ${served}`, {
            details: { model: this.model, served: models.map((model) => model.id) },
        });
    }

    async dispose(): Promise<void> {
        this.client.dispose();
    }

    async [Symbol.asyncDispose](): Promise<void> {
        await this.dispose();
    }

    private assertUsable(): void {
        if (this.client.disposed) throw new RstarError("BACKEND_DISPOSED", `backend ${this.id} was disposed`);
    }

    /** `indices.length` requests with n = 1; request i gets seed `seed + i` so the set is reproducible. */
    private async parallel(request: GenerateRequest, indices: number[]): Promise<WireResult[]> {
        const siblings = new AbortController();
        const signal = request.signal === undefined ? siblings.signal : AbortSignal.any([request.signal, siblings.signal]);
        try {
            return await Promise.all(
                indices.map((index) => this.complete(request, 1, request.seed === undefined ? undefined : request.seed + index, signal)),
            );
        } catch (error) {
            siblings.abort();
            if (request.signal?.aborted) throw new RstarError("ABORTED", "generate was aborted", { cause: request.signal.reason });
            throw error;
        }
    }

    private async complete(request: GenerateRequest, n: number, seed: number | undefined, signal: AbortSignal | undefined): Promise<WireResult> {
        const body: Record<string, unknown> = {
            model: this.model,
            prompt: request.prompt,
            max_tokens: request.maxTokens,
            temperature: request.temperature,
            top_p: request.topP,
            stop: [...request.stop],
            stream: false,
        };
        if (n !== 1) body["n"] = n;
        if (seed !== undefined) body["seed"] = seed;
        for (const [key, value] of Object.entries(this.settings.extraBody)) {
            if (value === undefined) delete body[key];
            else body[key] = value;
        }
        const { url, value, text } = await this.client.request("/completions", "POST", body, signal);
        return readCompletion(url, value, text);
    }

    private assemble(request: GenerateRequest, results: WireResult[]): GenerateResult {
        const completions: Completion[] = [];
        let usage: TokenUsage | null = null;
        let model: string | null = null;
        for (const result of results) {
            model ??= result.model;
            if (result.usage !== null) {
                usage ??= { promptTokens: 0, completionTokens: 0, totalTokens: 0 };
                usage.promptTokens += result.usage.promptTokens;
                usage.completionTokens += result.usage.completionTokens;
                usage.totalTokens += result.usage.totalTokens;
            }
            const ordered = [...result.choices].sort((a, b) => a.index - b.index);
            for (const choice of ordered) {
                if (completions.length >= request.n) break;
                const resolved = resolveStop(choice.text, choice.finishReason, choice.reported, request.stop, this.stopResolver);
                completions.push({ index: completions.length, finishReason: choice.finishReason, ...resolved });
            }
        }
        return { completions, usage, model: model ?? this.model };
    }
}

function range(from: number, to: number): number[] {
    return Array.from({ length: Math.max(0, to - from) }, (_, offset) => from + offset);
}

/** Validates a completion body and normalizes the shapes of the four servers into wire choices. */
function readCompletion(url: string, value: unknown, text: string): WireResult {
    const openAi = openAiCompletionSchema.safeParse(value);
    if (!openAi.success) {
        const native = llamaCppNativeResponseSchema.safeParse(value);
        if (native.success) return readLlamaCppNative(url, Array.isArray(native.data) ? native.data : [native.data]);
        const issue = openAi.error.issues[0];
        const where = issue === undefined ? "" : ` at ${issue.path.join(".") || "(root)"}: ${issue.message}`;
        throw invalidResponseError(url, `expected an OpenAI text completion ({"choices": [{"text": …}]})${where}`, text);
    }
    const data = openAi.data;
    if (data.choices.length === 0) throw invalidResponseError(url, "the response has no choices", text);
    const choices = data.choices.map((choice, position): WireChoice => {
        const finish = choice.finish_reason ?? null;
        let finishReason: FinishReason;
        if (finish === "length") finishReason = "length";
        else if (finish === "stop" || finish === "eos" || finish === null) finishReason = "stop";
        else if (finish === "abort") throw new RstarError("BACKEND_UNAVAILABLE", `the server at ${url} aborted the generation (finish_reason "abort")`, { retryable: true, details: { url } });
        else throw invalidResponseError(url, `unexpected finish_reason "${finish}"`, text);
        let reported: ReportedStop;
        if ("stop_reason" in choice) reported = choice.stop_reason;
        else if ("matched_stop" in choice) reported = choice.matched_stop;
        return { index: choice.index ?? position, text: choice.text, finishReason, reported };
    });
    const usage = data.usage;
    const prompt = usage?.prompt_tokens;
    const completion = usage?.completion_tokens;
    return {
        url,
        choices,
        usage:
            typeof prompt === "number" && typeof completion === "number"
                ? { promptTokens: prompt, completionTokens: completion, totalTokens: usage?.total_tokens ?? prompt + completion }
                : null,
        model: data.model ?? null,
    };
}

/** llama.cpp's native shape (baseURL without /v1): `stop_type` / `stopping_word`, or the older `stopped_*` flags. */
function readLlamaCppNative(url: string, items: LlamaCppNative[]): WireResult {
    let predicted = 0;
    let evaluated = 0;
    let counted = false;
    const choices = items.map((item, index): WireChoice => {
        if (typeof item.tokens_predicted === "number" && typeof item.tokens_evaluated === "number") {
            counted = true;
            predicted += item.tokens_predicted;
            evaluated += item.tokens_evaluated;
        }
        const type = item.stop_type ?? (item.stopped_limit === true ? "limit" : item.stopped_word === true ? "word" : item.stopped_eos === true ? "eos" : undefined);
        if (type === "limit") return { index, text: item.content, finishReason: "length", reported: null };
        if (type === "word") return { index, text: item.content, finishReason: "stop", reported: item.stopping_word ?? undefined };
        if (type === "eos") return { index, text: item.content, finishReason: "stop", reported: null };
        return { index, text: item.content, finishReason: "stop", reported: undefined };
    });
    return {
        url,
        choices,
        usage: counted ? { promptTokens: evaluated, completionTokens: predicted, totalTokens: evaluated + predicted } : null,
        model: items[0]?.model ?? null,
    };
}
