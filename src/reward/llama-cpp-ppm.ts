import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { LlamaEmbeddingContext, LlamaModel } from "node-llama-cpp";
import { z } from "zod";
import { InputError, RstarError } from "../errors/index.js";
import { acquireModel, defaultThreadCount, formatBytes, freeMemory, getSharedLlama, insufficientMemory, type GpuChoice, type GpuLayers } from "../llm/index.js";
import { parseJson } from "../util/index.js";
import { ppmInputText, type RewardInputFormatter } from "./input-text.js";
import type { RewardItem, RewardModel } from "./types.js";
import { ValueHead } from "./value-head.js";

/** `value_head.json`, as train/README.md defines it (format "rstar-value-head-v1"). */
const manifestSchema = z.looseObject({
    format: z.literal("rstar-value-head-v1"),
    weights: z.string().min(1),
    tensors: z.object({ weight: z.string().min(1), bias: z.string().min(1).optional() }),
    hidden_size: z.number().int().positive(),
    score_scale: z.number().positive().optional(),
    base_model: z.string().min(1).optional(),
});

export type PpmManifest = z.infer<typeof manifestSchema>;

export interface PpmDirectory {
    dir: string;
    /** The backbone GGUF (`base_model`, default `model.gguf`). */
    gguf: string;
    head: ValueHead;
    manifest: PpmManifest;
}

/**
 * Reads a PPM directory as `train/trainer.py ppm` writes it: `model.gguf` (the backbone), `value_head.safetensors`
 * and the manifest `value_head.json`. Errors name the file and field.
 */
export async function loadPpmDirectory(dir: string, options: { scale?: number } = {}): Promise<PpmDirectory> {
    const manifestPath = join(dir, "value_head.json");
    let text: string;
    try {
        text = await readFile(manifestPath, "utf8");
    } catch (error) {
        throw new RstarError("FILE_NOT_FOUND", `${manifestPath}: not found; a PPM directory holds model.gguf, value_head.safetensors and value_head.json (train/README.md)`, {
            cause: error,
            details: { file: manifestPath },
        });
    }
    const json = parseJson(text);
    if (!json.ok) throw new InputError(`value-head manifest is ${json.error}`, { file: manifestPath });
    const parsed = manifestSchema.safeParse(json.value);
    if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new InputError(issue?.message ?? "invalid manifest", { file: manifestPath, field: issue?.path.join(".") || "(root)" });
    }
    const manifest = parsed.data;
    const head = await ValueHead.load(resolve(dir, manifest.weights), {
        weightName: manifest.tensors.weight,
        ...(manifest.tensors.bias === undefined ? {} : { biasName: manifest.tensors.bias }),
        scale: options.scale ?? manifest.score_scale ?? 5,
    });
    if (head.hiddenSize !== manifest.hidden_size) {
        throw new InputError(`hidden_size is ${manifest.hidden_size} but ${manifest.weights} holds a head for ${head.hiddenSize}`, { file: manifestPath, field: "hidden_size" });
    }
    return { dir, gguf: resolve(dir, manifest.base_model ?? "model.gguf"), head, manifest };
}

export interface LlamaCppPpmOptions {
    /** The backbone GGUF. */
    modelPath: string;
    head: ValueHead;
    /** Tokens per input, BOS included (a longer input keeps its end, as in training). Defaults to the model's training context, at most 4096. */
    contextSize?: number;
    /** Evaluation threads. Defaults to `defaultThreadCount()`. */
    threads?: number;
    /** Where llama.cpp computes (see `GpuChoice`). Default `off`: CPU only. */
    gpu?: GpuChoice;
    /** Layers offloaded when a GPU is in use. Default `auto`. */
    gpuLayers?: GpuLayers;
    /** Input text for an item. Defaults to `ppmInputText` (the SFT prompt plus the partial solution). */
    formatInput?: RewardInputFormatter;
    /** Name for logs. Defaults to `ppm:<modelPath>`. */
    name?: string;
}

/**
 * The PPM in-process: node-llama-cpp's embedding context on the backbone GGUF gives the last token's hidden state
 * after the final norm (pooling NONE; BOS prepended, as in training), and the value head scores it in TypeScript.
 * Inputs are evaluated one at a time (the embedding context has one sequence).
 */
export class LlamaCppPpm implements RewardModel, AsyncDisposable {
    readonly specVersion = "rstar-reward-model/1" as const;
    readonly name: string;
    readonly threads: number;
    private readonly options: LlamaCppPpmOptions;
    private readonly formatInput: RewardInputFormatter;
    private readonly disposal = new AbortController();
    /** Embeddings running in llama.cpp: dispose waits for them, since freeing a context mid-decode crashes the process. */
    private readonly running = new Set<Promise<unknown>>();
    private state: Promise<{ model: LlamaModel; context: LlamaEmbeddingContext; contextSize: number; release: () => Promise<void> }> | undefined;

    constructor(options: LlamaCppPpmOptions) {
        this.options = options;
        this.name = options.name ?? `ppm:${options.modelPath}`;
        this.threads = options.threads ?? defaultThreadCount();
        this.formatInput = options.formatInput ?? ppmInputText;
        if (!Number.isInteger(this.threads) || this.threads < 1) throw new RstarError("CONFIG_INVALID", `threads must be an integer >= 1, got ${this.threads}`);
    }

    /** A PPM from a directory (see `loadPpmDirectory`); the name is `ppm:<dir>`. */
    static async fromDirectory(dir: string, options: Omit<LlamaCppPpmOptions, "modelPath" | "head"> & { scale?: number } = {}): Promise<LlamaCppPpm> {
        const { scale, ...rest } = options;
        const loaded = await loadPpmDirectory(dir, scale === undefined ? {} : { scale });
        return new LlamaCppPpm({ name: `ppm:${dir}`, ...rest, modelPath: loaded.gguf, head: loaded.head });
    }

    get head(): ValueHead {
        return this.options.head;
    }

    /** Loads the backbone now (otherwise the first call does). */
    async load(): Promise<void> {
        await this.ensureLoaded();
    }

    /** The last token's hidden state for a text (BOS prepended), as the head sees it. */
    async hiddenState(text: string, signal?: AbortSignal): Promise<number[]> {
        this.assertUsable();
        const { model, context, contextSize: limit } = await this.ensureLoaded();
        if (signal?.aborted) throw new RstarError("ABORTED", "scoring was aborted", { cause: signal.reason });
        this.assertUsable();
        let tokens = model.tokenize(text, true);
        // As in training (train/trainer.py ppm_ids): an input longer than the context keeps its end, where the step
        // being scored is, rather than failing the problem.
        if (tokens.length + 1 >= limit) tokens = tokens.slice(tokens.length - (limit - 2));
        let embedding;
        try {
            const running = context.getEmbeddingFor(tokens);
            this.running.add(running);
            try {
                embedding = await running;
            } finally {
                this.running.delete(running);
            }
        } catch (error) {
            this.assertUsable();
            throw new RstarError("INTERNAL", `llama.cpp embedding failed: ${(error as Error).message}`, { cause: error });
        }
        const vector = [...embedding.vector];
        if (vector.length !== this.options.head.hiddenSize) {
            throw new RstarError("BACKEND_RESPONSE_INVALID", `${this.options.modelPath} gives hidden states of ${vector.length}; the value head expects ${this.options.head.hiddenSize}`);
        }
        return vector;
    }

    async score(items: readonly RewardItem[], options: { signal?: AbortSignal } = {}): Promise<number[]> {
        this.assertUsable();
        const signal = options.signal;
        if (signal?.aborted) throw new RstarError("ABORTED", "scoring was aborted before it started", { cause: signal.reason });
        const scores: number[] = [];
        for (const item of items) {
            const hidden = await this.hiddenState(this.formatInput(item), signal);
            this.assertUsable();
            if (signal?.aborted) throw new RstarError("ABORTED", "scoring was aborted", { cause: signal.reason });
            scores.push(this.options.head.score(hidden));
        }
        return scores;
    }

    async dispose(): Promise<void> {
        if (this.disposal.signal.aborted) return;
        this.disposal.abort();
        const state = this.state;
        this.state = undefined;
        const loaded = await state?.catch(() => undefined);
        if (loaded !== undefined) {
            await Promise.allSettled([...this.running]);
            await loaded.context.dispose();
            await loaded.release();
        }
    }

    async [Symbol.asyncDispose](): Promise<void> {
        await this.dispose();
    }

    private assertUsable(): void {
        if (this.disposal.signal.aborted) throw new RstarError("BACKEND_DISPOSED", `reward model ${this.name} was disposed`);
    }

    private ensureLoaded(): Promise<{ model: LlamaModel; context: LlamaEmbeddingContext; contextSize: number; release: () => Promise<void> }> {
        this.state ??= (async () => {
            const { InsufficientMemoryError } = await import("node-llama-cpp");
            const { model, info, release } = await acquireModel(this.options.modelPath, {
                ...(this.options.gpu === undefined ? {} : { gpu: this.options.gpu }),
                ...(this.options.gpuLayers === undefined ? {} : { gpuLayers: this.options.gpuLayers }),
            });
            try {
                const trained = model.trainContextSize;
                const contextSize = this.options.contextSize ?? Math.min(4096, trained > 0 ? trained : 4096);
                const context = await model.createEmbeddingContext({ contextSize, threads: this.threads });
                return { model, context, contextSize, release };
            } catch (error) {
                await release();
                if (error instanceof InsufficientMemoryError) {
                    const free = await freeMemory(await getSharedLlama(info.gpu === false ? "off" : info.gpu));
                    throw insufficientMemory(this.options.modelPath, `the PPM backbone (${formatBytes(info.sizeBytes)}) with its embedding context (${error.message})`, null, free, error);
                }
                throw new RstarError("BACKEND_UNAVAILABLE", `cannot create a llama.cpp embedding context for ${this.options.modelPath}: ${(error as Error).message}`, { cause: error });
            }
        })();
        const state = this.state;
        state.catch(() => {
            if (this.state === state) this.state = undefined;
        });
        return state;
    }
}
