import { RstarError } from "../errors/index.js";
import { LlamaCppBackend } from "./llama-cpp/index.js";
import { OpenAiCompatibleBackend, type OpenAiCompatibleOptions } from "./openai-compatible/index.js";
import type { LlmBackend } from "./types.js";

/** Thrown for a backend id whose kind no factory is registered for. */
export class NoSuchBackendError extends RstarError {
    constructor(id: string, known: readonly string[]) {
        super("NO_SUCH_BACKEND", `unknown LLM backend "${id}": expected <kind>:<target> with kind one of ${known.join(", ")} (e.g. openai:http://127.0.0.1:8000/v1)`, {
            details: { id, known: [...known] },
        });
        this.name = "NoSuchBackendError";
    }
}

/** Options every factory receives: the model name plus backend-specific settings (ignored by kinds that don't use them). */
export interface BackendFactoryOptions extends Omit<OpenAiCompatibleOptions, "baseURL"> {
    model?: string;
    /** `llamacpp:` only: evaluation threads per context, tokens per sequence, parallel completions (one context each). */
    threads?: number;
    contextSize?: number;
    sequences?: number;
}

/** Builds a backend from the part of the id after `kind:`. */
export type BackendFactory = (target: string, options: BackendFactoryOptions) => LlmBackend;

/** Maps id prefixes (`openai:`, `vllm:`, …) to factories. Later backends (node-llama-cpp) register here. */
export class LlmBackendRegistry {
    private readonly factories = new Map<string, BackendFactory>();

    register(kind: string, factory: BackendFactory): this {
        this.factories.set(kind, factory);
        return this;
    }

    get kinds(): string[] {
        return [...this.factories.keys()];
    }

    /** Resolves `kind:target`, e.g. `openai:http://127.0.0.1:8000/v1` (several URLs: comma-separated). */
    resolve(id: string, options: BackendFactoryOptions = {}): LlmBackend {
        const colon = id.indexOf(":");
        const kind = colon < 0 ? id : id.slice(0, colon);
        const factory = this.factories.get(kind);
        if (factory === undefined || colon < 0) throw new NoSuchBackendError(id, this.kinds);
        return factory(id.slice(colon + 1), options);
    }
}

const openAiCompatible: BackendFactory = (target, options) =>
    new OpenAiCompatibleBackend({ ...options, baseURL: target.split(",").map((url) => url.trim()) });

/** `llamacpp:PATH.gguf`: the GGUF run in-process by node-llama-cpp (CPU). */
const llamaCpp: BackendFactory = (target, options) =>
    new LlamaCppBackend({
        modelPath: target,
        ...(options.model === undefined ? {} : { model: options.model }),
        ...(options.threads === undefined ? {} : { threads: options.threads }),
        ...(options.contextSize === undefined ? {} : { contextSize: options.contextSize }),
        ...(options.sequences === undefined ? {} : { sequences: options.sequences }),
    });

/**
 * The default registry. `openai:` is any OpenAI-compatible /v1/completions server; `vllm:`, `sglang:`,
 * `llama-server:` and `ollama:` are aliases that read better in configs; `llamacpp:PATH.gguf` runs a GGUF in-process.
 */
export function createDefaultRegistry(): LlmBackendRegistry {
    return new LlmBackendRegistry()
        .register("openai", openAiCompatible)
        .register("vllm", openAiCompatible)
        .register("sglang", openAiCompatible)
        .register("llama-server", openAiCompatible)
        .register("ollama", openAiCompatible)
        .register("llamacpp", llamaCpp);
}

/** Resolves a backend id with the default registry. */
export function resolveLlmBackend(id: string, options: BackendFactoryOptions = {}): LlmBackend {
    return createDefaultRegistry().resolve(id, options);
}
