import { setMaxListeners } from "node:events";
import type { LlamaCompletion, LlamaContext, LlamaContextSequence, LlamaModel, Token } from "node-llama-cpp";
import { RstarError } from "../../errors/index.js";
import {
    LLM_BACKEND_SPEC_VERSION,
    type Completion,
    type GenerateRequest,
    type GenerateResult,
    type LlmBackend,
    type ModelInfo,
} from "../types.js";
import { validateGenerateRequest } from "../validate-request.js";
import { chatRenderer, type ChatRenderer } from "./chat-template.js";
import {
    acquireModel,
    defaultParallelSequences,
    defaultThreadCount,
    formatBytes,
    freeMemory,
    getSharedLlama,
    insufficientMemory,
    modelNameFromPath,
    type GpuChoice,
    type GpuLayers,
    type LoadedModelInfo,
} from "./shared-llama.js";

export interface LlamaCppBackendOptions {
    /** Path of the GGUF file. */
    modelPath: string;
    /** Name reported as `model` and by `listModels`. Defaults to the file name without `.gguf`. */
    model?: string;
    /**
     * Tokens per sequence (prompt + completion). A number is taken as it is (llama.cpp may round it up to a multiple of
     * 256); `"fit"` takes the largest that fits the free memory between 1,024 (or the training context, when smaller)
     * and 4,096 (or the training context). Defaults to 2048, or less when the model was trained on less.
     */
    contextSize?: number | "fit";
    /** Where llama.cpp computes (see `GpuChoice`). Default `off`: CPU only. */
    gpu?: GpuChoice;
    /** Layers offloaded when a GPU is in use. Default `auto`: as many as fit (all, for a model that fits). */
    gpuLayers?: GpuLayers;
    /**
     * Completions generated at once. Each is a llama.cpp context of its own holding one sequence, so a batch never mixes
     * two completions; a larger `n`, and concurrent calls, wait for a free one (first come, first served).
     * Defaults to `defaultParallelSequences(threads)`: as many as the CPUs run side by side at `threads` each, at most 4,
     * and no more than fit the free memory (`describe().sequences` says how many were made; a number given here is
     * made exactly, or fails with INSUFFICIENT_MEMORY).
     */
    sequences?: number;
    /** Evaluation threads of each context. Defaults to `defaultThreadCount()` (CPUs - 1, at least 1, at most 8). */
    threads?: number;
    /** Tokens evaluated per decode step. Defaults to node-llama-cpp's (512, or contextSize when smaller). */
    batchSize?: number;
}

/** One parallel completion: a context of its own with its single sequence. */
interface Slot {
    context: LlamaContext;
    sequence: LlamaContextSequence;
    completion: LlamaCompletion;
}

interface Loaded {
    model: LlamaModel;
    contextSize: number;
    batchSize: number;
    info: LoadedModelInfo;
    release: () => Promise<void>;
}

/** How a loaded policy runs: the model, where it computes, and the contexts chosen for it. */
export interface LlamaCppPolicyInfo extends LoadedModelInfo {
    model: string;
    /** Tokens per sequence. */
    contextSize: number;
    /** Tokens evaluated per decode step. */
    batchSize: number;
    /** Completions generated at once (one single-sequence context each): `sequences`, or fewer when the default did not fit the free memory. */
    sequences: number;
    threads: number;
}

interface Waiter {
    resolve: (slot: Slot) => void;
    reject: (error: unknown) => void;
    signal: AbortSignal;
    onAbort: () => void;
}

/**
 * Policy backend running a GGUF in-process through node-llama-cpp (CPU, or a GPU with `gpu`). Completions run on `sequences` slots, each a
 * llama.cpp context with a single sequence whose history is cleared before every completion. So a completion is
 * always evaluated the same way — the same tokens from position 0, in the same batches, never in a batch with another
 * completion's tokens — and its text depends only on (prompt, settings, seed + index), not on what else runs at the
 * time. (Sequences of one shared context are not: llama.cpp's batched decode gives a sequence slightly different
 * logits depending on which other sequences share the batch, enough to flip greedy tokens; see docs/llm-backends.md.)
 * Sampling is exactly temperature + top-p (no repeat penalty, no top-k, no min-p); completion i uses seed `seed + i`.
 */
export class LlamaCppBackend implements LlmBackend {
    readonly specVersion = LLM_BACKEND_SPEC_VERSION;
    readonly id: string;
    readonly model: string;
    readonly threads: number;
    readonly sequences: number;
    private readonly options: LlamaCppBackendOptions;
    private readonly disposal = new AbortController();
    private state: Promise<Loaded> | undefined;
    private slots: Slot[] = [];
    private free: Slot[] = [];
    private readonly waiters: Waiter[] = [];
    /** Completions running in llama.cpp: dispose waits for them, since freeing a context mid-decode crashes the process. */
    private readonly running = new Set<Promise<unknown>>();

    constructor(options: LlamaCppBackendOptions) {
        this.options = options;
        this.id = `llamacpp:${options.modelPath}`;
        this.model = options.model ?? modelNameFromPath(options.modelPath);
        this.threads = options.threads ?? defaultThreadCount();
        if (!Number.isInteger(this.threads) || this.threads < 1) throw new RstarError("CONFIG_INVALID", `threads must be an integer >= 1, got ${this.threads}`);
        this.sequences = options.sequences ?? defaultParallelSequences(this.threads);
        if (!Number.isInteger(this.sequences) || this.sequences < 1) throw new RstarError("CONFIG_INVALID", `sequences must be an integer >= 1, got ${this.sequences}`);
        if (options.contextSize !== undefined && options.contextSize !== "fit" && (!Number.isInteger(options.contextSize) || options.contextSize < 16)) {
            throw new RstarError("CONFIG_INVALID", `contextSize must be an integer >= 16, got ${options.contextSize}`);
        }
    }

    /** Loads the model and creates the contexts now (otherwise the first call does). */
    async load(): Promise<void> {
        await this.ensureLoaded();
    }

    /** The context's tokens per sequence, once loaded. */
    async contextSize(): Promise<number> {
        return (await this.ensureLoaded()).contextSize;
    }

    /** The model, where it runs and the contexts chosen for it (loads it first). */
    async describe(): Promise<LlamaCppPolicyInfo> {
        const { info, contextSize, batchSize } = await this.ensureLoaded();
        return { ...info, model: this.model, contextSize, batchSize, sequences: this.slots.length, threads: this.threads };
    }

    /**
     * Renders (user message, start of the assistant's reply) through the model's own chat template
     * (`tokenizer.chat_template` in the GGUF metadata), the reply left open for the model to continue; null when
     * the GGUF has no chat template. Loads the model first.
     */
    async chatRenderer(): Promise<ChatRenderer | null> {
        const { model, info } = await this.ensureLoaded();
        return info.chatTemplate === null ? null : chatRenderer(model, info.chatTemplate);
    }

    async generate(request: GenerateRequest): Promise<GenerateResult> {
        this.assertUsable();
        validateGenerateRequest(request);
        if (request.signal?.aborted) throw new RstarError("ABORTED", "generate was aborted before it started", { cause: request.signal.reason });
        const { model, contextSize } = await this.ensureLoaded();
        this.assertUsable();
        const promptTokens = model.tokenize(request.prompt, true);
        const room = contextSize - promptTokens.length - 1;
        if (room < 1) {
            throw new RstarError("INVALID_ARGUMENT", `the prompt is ${promptTokens.length + 1} tokens (BOS included); the context holds ${contextSize} per sequence (raise contextSize)`, {
                details: { promptTokens: promptTokens.length + 1, contextSize },
            });
        }
        // One failed completion stops its siblings: they share this call's controller.
        const call = new AbortController();
        const signals = [call.signal, this.disposal.signal, ...(request.signal === undefined ? [] : [request.signal])];
        const signal = AbortSignal.any(signals);
        // each of the n completions listens on it while it waits and while it runs: not a leak
        setMaxListeners(0, signal);
        const baseSeed = request.seed ?? Math.floor(Math.random() * 2 ** 31);
        const maxTokens = Math.min(request.maxTokens, room);
        const settled = await Promise.allSettled(
            Array.from({ length: request.n }, async (_, index) => {
                const slot = await this.acquire(signal);
                try {
                    const running = this.complete(slot, promptTokens, request, index, baseSeed + index, maxTokens, signal);
                    this.running.add(running);
                    try {
                        return await running;
                    } finally {
                        this.running.delete(running);
                    }
                } catch (error) {
                    call.abort(error);
                    throw error;
                } finally {
                    this.release(slot);
                }
            }),
        );
        const completions: Completion[] = [];
        let completionTokens = 0;
        for (const outcome of settled) {
            if (outcome.status === "rejected") {
                const first = call.signal.aborted ? call.signal.reason : outcome.reason;
                throw this.interruption(request.signal) ?? wrap(first);
            }
            completions.push(outcome.value.completion);
            completionTokens += outcome.value.tokens;
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
        for (const waiter of this.waiters.splice(0)) {
            waiter.signal.removeEventListener("abort", waiter.onAbort);
            waiter.reject(error);
        }
        const state = this.state;
        this.state = undefined;
        this.free = [];
        if (state !== undefined) {
            const loaded = await state.catch(() => undefined);
            if (loaded !== undefined) {
                // The abort above ends each running completion at its next token; the decode in progress must finish first.
                await Promise.allSettled([...this.running]);
                const slots = this.slots;
                this.slots = [];
                for (const slot of slots) await slot.context.dispose();
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

    private ensureLoaded(): Promise<Loaded> {
        this.state ??= (async () => {
            const { LlamaCompletion, InsufficientMemoryError } = await import("node-llama-cpp");
            const { model, info, release } = await acquireModel(this.options.modelPath, {
                ...(this.options.gpu === undefined ? {} : { gpu: this.options.gpu }),
                ...(this.options.gpuLayers === undefined ? {} : { gpuLayers: this.options.gpuLayers }),
            });
            const slots: Slot[] = [];
            const trained = model.trainContextSize > 0 ? model.trainContextSize : 4096;
            let contextSize: number | { min: number; max: number } = Math.min(2048, trained);
            if (this.options.contextSize === "fit") contextSize = { min: Math.min(1024, trained), max: Math.min(4096, trained) };
            else if (this.options.contextSize !== undefined) contextSize = this.options.contextSize;
            try {
                for (let i = 0; i < this.sequences; i += 1) {
                    // Every slot gets the first slot's size, so completions do not depend on which slot ran them.
                    const size = slots[0]?.context.contextSize ?? contextSize;
                    let context: LlamaContext;
                    try {
                        context = await model.createContext({
                            contextSize: size,
                            sequences: 1,
                            threads: this.threads,
                            ...(this.options.batchSize === undefined ? {} : { batchSize: this.options.batchSize }),
                        });
                    } catch (error) {
                        // Default parallelism is as many slots as fit: with one made, a slot the memory cannot hold ends the list.
                        if (error instanceof InsufficientMemoryError && slots.length > 0 && this.options.sequences === undefined) break;
                        throw error;
                    }
                    const sequence = context.getSequence();
                    slots.push({ context, sequence, completion: new LlamaCompletion({ contextSequence: sequence }) });
                }
                if (this.disposal.signal.aborted) throw new RstarError("BACKEND_DISPOSED", `backend ${this.id} was disposed`);
                this.slots = slots;
                this.free = [...slots];
                const first = slots[0] as Slot;
                return { model, info, contextSize: first.context.contextSize, batchSize: first.context.batchSize, release };
            } catch (error) {
                for (const slot of slots) await slot.context.dispose();
                await release();
                if (error instanceof InsufficientMemoryError) {
                    const free = await freeMemory(await getSharedLlama(info.gpu === false ? "off" : info.gpu));
                    const size = typeof contextSize === "number" ? contextSize : contextSize.min;
                    throw insufficientMemory(
                        this.options.modelPath,
                        `the model (${formatBytes(info.sizeBytes)}) with ${this.sequences} context(s) of ${size} tokens (${error.message})`,
                        null,
                        free,
                        error,
                    );
                }
                throw RstarError.isInstance(error) ? error : new RstarError("BACKEND_UNAVAILABLE", `cannot create a llama.cpp context for ${this.options.modelPath}: ${(error as Error).message}`, { cause: error });
            }
        })();
        const state = this.state;
        state.catch(() => {
            if (this.state === state) this.state = undefined;
        });
        return state;
    }

    /** Waits (first come, first served) for a free slot and takes it. */
    private acquire(signal: AbortSignal): Promise<Slot> {
        if (signal.aborted) return Promise.reject(signal.reason);
        if (this.waiters.length === 0 && this.free.length > 0) return Promise.resolve(this.free.shift() as Slot);
        return new Promise<Slot>((resolve, reject) => {
            const waiter: Waiter = {
                resolve,
                reject,
                signal,
                onAbort: () => {
                    const position = this.waiters.indexOf(waiter);
                    if (position >= 0) this.waiters.splice(position, 1);
                    reject(signal.reason);
                },
            };
            signal.addEventListener("abort", waiter.onAbort, { once: true });
            this.waiters.push(waiter);
        });
    }

    private release(slot: Slot): void {
        if (this.disposal.signal.aborted || !this.slots.includes(slot)) return;
        const next = this.waiters.shift();
        if (next === undefined) {
            this.free.push(slot);
            return;
        }
        next.signal.removeEventListener("abort", next.onAbort);
        next.resolve(slot);
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
        // Start from an empty sequence: no prefix of an earlier prompt is reused, so the prompt is always evaluated
        // from position 0 in the same batches (and an aborted generation leaves nothing behind).
        await slot.sequence.clearHistory();
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
            ...(request.onText === undefined ? {} : { onTextChunk: (text: string) => request.onText?.(index, text) }),
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
