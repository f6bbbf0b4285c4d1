import type { LlamaCompletion, LlamaContext, LlamaModel, Token } from "node-llama-cpp";
import { RstarError } from "../src/errors/index.js";
import {
    LLM_BACKEND_SPEC_VERSION,
    acquireModel,
    defaultThreadCount,
    modelNameFromPath,
    validateGenerateRequest,
    type Completion,
    type GenerateRequest,
    type GenerateResult,
    type LlmBackend,
    type ModelInfo,
} from "../src/llm/index.js";

export interface SharedContextOptions {
    /** Path of the GGUF file. */
    modelPath: string;
    /** Name reported as `model` and by `listModels`. Defaults to the file name without `.gguf`. */
    model?: string;
    /**
     * Tokens per sequence (prompt + completion). Defaults to 2048, or less when the model was trained on less
     * (llama.cpp may round it up to a multiple of 256).
     */
    contextSize?: number;
    /**
     * Parallel sequences in the context: up to this many completions are decoded together in one batch; a larger `n`
     * runs in waves, and concurrent calls share the sequences first come, first served. Defaults to 8.
     */
    sequences?: number;
    /** Evaluation threads. Defaults to `defaultThreadCount()` (CPUs - 1, at least 1, at most 8). */
    threads?: number;
    /** Tokens evaluated per decode step. Defaults to node-llama-cpp's (512, or contextSize when smaller). */
    batchSize?: number;
}

interface Slot {
    completion: LlamaCompletion;
}

interface Waiter {
    count: number;
    resolve: (slots: Slot[]) => void;
    reject: (error: unknown) => void;
    signal: AbortSignal | undefined;
    onAbort: () => void;
}

/**
 * BENCH ONLY — the llama.cpp policy backend as it was before one context per sequence (commit 214cf03): one context
 * with N sequences, each slot a reused `LlamaCompletion`, sequences handed between requests first come, first served.
 * Its output depends on which other sequences share a decode batch, so it is not reproducible; it is kept here only so
 * `npm run bench -- llama` can measure the old design's throughput (and its divergence) beside the current one.
 */
export class SharedContextBackend implements LlmBackend {
    readonly specVersion = LLM_BACKEND_SPEC_VERSION;
    readonly id: string;
    readonly model: string;
    readonly threads: number;
    readonly sequences: number;
    private readonly options: SharedContextOptions;
    private readonly disposal = new AbortController();
    private state: Promise<{ model: LlamaModel; context: LlamaContext; release: () => Promise<void> }> | undefined;
    private free: Slot[] = [];
    private readonly waiters: Waiter[] = [];

    constructor(options: SharedContextOptions) {
        this.options = options;
        this.id = `llamacpp:${options.modelPath}`;
        this.model = options.model ?? modelNameFromPath(options.modelPath);
        this.threads = options.threads ?? defaultThreadCount();
        this.sequences = options.sequences ?? 8;
        if (!Number.isInteger(this.threads) || this.threads < 1) throw new RstarError("CONFIG_INVALID", `threads must be an integer >= 1, got ${this.threads}`);
        if (!Number.isInteger(this.sequences) || this.sequences < 1) throw new RstarError("CONFIG_INVALID", `sequences must be an integer >= 1, got ${this.sequences}`);
        if (options.contextSize !== undefined && (!Number.isInteger(options.contextSize) || options.contextSize < 16)) {
            throw new RstarError("CONFIG_INVALID", `contextSize must be an integer >= 16, got ${options.contextSize}`);
        }
    }

    /** Loads the model and creates the context now (otherwise the first call does). */
    async load(): Promise<void> {
        await this.ensureLoaded();
    }

    /** The context's tokens per sequence, once loaded. */
    async contextSize(): Promise<number> {
        return (await this.ensureLoaded()).context.contextSize;
    }

    async generate(request: GenerateRequest): Promise<GenerateResult> {
        this.assertUsable();
        validateGenerateRequest(request);
        if (request.signal?.aborted) throw new RstarError("ABORTED", "generate was aborted before it started", { cause: request.signal.reason });
        const { model, context } = await this.ensureLoaded();
        this.assertUsable();
        const promptTokens = model.tokenize(request.prompt, true);
        const room = context.contextSize - promptTokens.length - 1;
        if (room < 1) {
            throw new RstarError("INVALID_ARGUMENT", `the prompt is ${promptTokens.length + 1} tokens (BOS included); the context holds ${context.contextSize} per sequence (raise contextSize)`, {
                details: { promptTokens: promptTokens.length + 1, contextSize: context.contextSize },
            });
        }
        const signal = request.signal === undefined ? this.disposal.signal : AbortSignal.any([request.signal, this.disposal.signal]);
        const baseSeed = request.seed ?? Math.floor(Math.random() * 2 ** 31);
        const completions: Completion[] = [];
        let completionTokens = 0;
        for (let start = 0; start < request.n; start += this.sequences) {
            const count = Math.min(this.sequences, request.n - start);
            const slots = await this.acquire(count, signal).catch((error: unknown) => {
                throw this.interruption(request.signal) ?? error;
            });
            try {
                const wave = await Promise.all(
                    slots.map((slot, offset) => this.complete(slot, promptTokens, request, start + offset, baseSeed + start + offset, Math.min(request.maxTokens, room), signal)),
                );
                for (const result of wave) {
                    completions.push(result.completion);
                    completionTokens += result.tokens;
                }
            } catch (error) {
                throw this.interruption(request.signal) ?? wrap(error);
            } finally {
                this.releaseSlots(slots);
            }
        }
        const prompt = promptTokens.length + 1;
        return { completions, usage: { promptTokens: prompt, completionTokens, totalTokens: prompt + completionTokens }, model: this.model };
    }

    async listModels(_options: { signal?: AbortSignal } = {}): Promise<ModelInfo[]> {
        this.assertUsable();
        return [{ id: this.model, ownedBy: "llamacpp" }];
    }

    async dispose(): Promise<void> {
        if (this.disposal.signal.aborted) return;
        const error = new RstarError("BACKEND_DISPOSED", `backend ${this.id} was disposed`);
        this.disposal.abort(error);
        for (const waiter of this.waiters.splice(0)) waiter.reject(error);
        const state = this.state;
        this.state = undefined;
        this.free = [];
        if (state !== undefined) {
            const loaded = await state.catch(() => undefined);
            if (loaded !== undefined) {
                await loaded.context.dispose();
                await loaded.release();
            }
        }
    }

    async [Symbol.asyncDispose](): Promise<void> {
        await this.dispose();
    }

    private assertUsable(): void {
        if (this.disposal.signal.aborted) throw new RstarError("BACKEND_DISPOSED", `backend ${this.id} was disposed`);
    }

    private interruption(signal: AbortSignal | undefined): RstarError | undefined {
        if (this.disposal.signal.aborted) return new RstarError("BACKEND_DISPOSED", `backend ${this.id} was disposed`);
        if (signal?.aborted) return new RstarError("ABORTED", "generate was aborted", { cause: signal.reason });
        return undefined;
    }

    private ensureLoaded(): Promise<{ model: LlamaModel; context: LlamaContext; release: () => Promise<void> }> {
        this.state ??= (async () => {
            const { LlamaCompletion } = await import("node-llama-cpp");
            const { model, release } = await acquireModel(this.options.modelPath);
            try {
                const trained = model.trainContextSize;
                const contextSize = this.options.contextSize ?? Math.min(2048, trained > 0 ? trained : 2048);
                const context = await model.createContext({
                    contextSize,
                    sequences: this.sequences,
                    threads: this.threads,
                    ...(this.options.batchSize === undefined ? {} : { batchSize: this.options.batchSize }),
                });
                const slots: Slot[] = [];
                for (let i = 0; i < this.sequences; i += 1) slots.push({ completion: new LlamaCompletion({ contextSequence: context.getSequence() }) });
                if (this.disposal.signal.aborted) {
                    await context.dispose();
                    await release();
                    throw new RstarError("BACKEND_DISPOSED", `backend ${this.id} was disposed`);
                }
                this.free = slots;
                return { model, context, release };
            } catch (error) {
                await release();
                throw RstarError.isInstance(error) ? error : new RstarError("BACKEND_UNAVAILABLE", `cannot create a llama.cpp context for ${this.options.modelPath}: ${(error as Error).message}`, { cause: error });
            }
        })();
        const state = this.state;
        state.catch(() => {
            if (this.state === state) this.state = undefined;
        });
        return state;
    }

    /** Waits (first come, first served) until `count` sequences are free and takes them. */
    private acquire(count: number, signal: AbortSignal): Promise<Slot[]> {
        if (signal.aborted) return Promise.reject(signal.reason);
        if (this.waiters.length === 0 && this.free.length >= count) return Promise.resolve(this.free.splice(0, count));
        return new Promise<Slot[]>((resolve, reject) => {
            const waiter: Waiter = {
                count,
                resolve,
                reject,
                signal,
                onAbort: () => {
                    const position = this.waiters.indexOf(waiter);
                    if (position >= 0) this.waiters.splice(position, 1);
                    reject(signal.reason);
                    this.serveWaiters();
                },
            };
            signal.addEventListener("abort", waiter.onAbort, { once: true });
            this.waiters.push(waiter);
        });
    }

    private releaseSlots(slots: Slot[]): void {
        if (this.disposal.signal.aborted) return;
        this.free.push(...slots);
        this.serveWaiters();
    }

    private serveWaiters(): void {
        for (let next = this.waiters[0]; next !== undefined && this.free.length >= next.count; next = this.waiters[0]) {
            this.waiters.shift();
            next.signal?.removeEventListener("abort", next.onAbort);
            next.resolve(this.free.splice(0, next.count));
        }
    }

    private async complete(
        slot: Slot,
        promptTokens: Token[],
        request: GenerateRequest,
        index: number,
        seed: number,
        maxTokens: number,
        signal: AbortSignal,
    ): Promise<{ completion: Completion; tokens: number }> {
        let tokens = 0;
        const result = await slot.completion.generateCompletionWithMeta(promptTokens, {
            signal,
            maxTokens,
            temperature: request.temperature,
            topP: request.topP,
            topK: 0,
            minP: 0,
            seed,
            repeatPenalty: false,
            customStopTriggers: [...request.stop],
            contextShiftSize: 0,
            disableContextShift: true,
            onToken: (generated) => {
                tokens += generated.length;
            },
        });
        const { metadata } = result;
        switch (metadata.stopReason) {
            case "customStopTrigger": {
                const matched = metadata.customStopTrigger.map((part) => (typeof part === "string" ? part : "")).join("");
                const stop = request.stop.includes(matched) ? matched : (request.stop.find((candidate) => candidate === matched.trim()) ?? matched);
                return { completion: { index, text: result.response, finishReason: "stop", stop, stopInferred: false }, tokens };
            }
            case "maxTokens":
                return { completion: { index, text: result.response, finishReason: "length", stop: null, stopInferred: false }, tokens };
            case "abort":
                throw new RstarError("ABORTED", "generate was aborted");
            default:
                // end-of-generation token (EOS/EOT), or a stop token of the model's own
                return { completion: { index, text: result.response, finishReason: "stop", stop: null, stopInferred: false }, tokens };
        }
    }
}

function wrap(error: unknown): RstarError {
    if (RstarError.isInstance(error)) return error;
    return new RstarError("INTERNAL", `llama.cpp generation failed: ${(error as Error)?.message ?? String(error)}`, { cause: error });
}
