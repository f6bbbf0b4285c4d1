import { availableParallelism } from "node:os";
import { basename } from "node:path";
import { stat } from "node:fs/promises";
import type { Llama, LlamaModel } from "node-llama-cpp";
import { RstarError } from "../../errors/index.js";

let llamaPromise: Promise<Llama> | undefined;

/**
 * The process-wide node-llama-cpp instance, created on first use: CPU only, prebuilt binaries only (never a build or
 * a download), logs at warning level and above. Later calls get the same instance.
 */
export function getSharedLlama(): Promise<Llama> {
    llamaPromise ??= (async () => {
        const { getLlama, LlamaLogLevel } = await import("node-llama-cpp");
        try {
            return await getLlama({ gpu: false, build: "never", skipDownload: true, progressLogs: false, logLevel: LlamaLogLevel.error });
        } catch (error) {
            llamaPromise = undefined;
            throw new RstarError("BACKEND_UNAVAILABLE", `cannot start llama.cpp (node-llama-cpp CPU prebuild): ${(error as Error).message}`, { cause: error });
        }
    })();
    return llamaPromise;
}

/**
 * Default evaluation threads: one fewer than the CPUs (leaving one for Node and the sandbox), at least 1, at most 8.
 * node-llama-cpp's own default overcommits small machines (4 threads on 2 vCPUs), which can make a tiny model
 * 100x slower; on 2 CPUs this gives 1.
 */
export function defaultThreadCount(cpus: number = availableParallelism()): number {
    return Math.max(1, Math.min(8, cpus - 1));
}

/**
 * Default parallel completions of an in-process policy: as many single-sequence contexts as the CPUs run side by side
 * at `threads` each (CPUs / threads, at least 1), at most 4 — node-llama-cpp runs each context's decode on Node's
 * libuv thread pool, which has 4 threads unless UV_THREADPOOL_SIZE says otherwise, so a fifth would only queue.
 * On 2 CPUs at 1 thread this gives 2.
 */
export function defaultParallelSequences(threads: number, cpus: number = availableParallelism()): number {
    return Math.max(1, Math.min(4, Math.floor(cpus / Math.max(1, threads))));
}

interface ModelEntry {
    promise: Promise<LlamaModel>;
    users: number;
}

const models = new Map<string, ModelEntry>();

/**
 * Loads a GGUF once per process and shares it (weights are read-only; each user creates its own contexts).
 * Call the returned `release` once; the model is disposed when its last user releases it.
 */
export async function acquireModel(path: string): Promise<{ model: LlamaModel; release: () => Promise<void> }> {
    let entry = models.get(path);
    if (entry === undefined) {
        const promise = (async () => {
            try {
                const info = await stat(path);
                if (!info.isFile()) throw new Error("not a file");
            } catch (error) {
                throw new RstarError("FILE_NOT_FOUND", `${path}: no such GGUF model file`, { cause: error, details: { file: path } });
            }
            const llama = await getSharedLlama();
            try {
                return await llama.loadModel({ modelPath: path, gpuLayers: 0 });
            } catch (error) {
                throw new RstarError("INVALID_INPUT", `${path}: cannot load as a GGUF model (${(error as Error).message})`, { cause: error, details: { file: path } });
            }
        })();
        entry = { promise, users: 0 };
        models.set(path, entry);
        promise.catch(() => {
            if (models.get(path) === entry) models.delete(path);
        });
    }
    const current = entry;
    current.users += 1;
    let model: LlamaModel;
    try {
        model = await current.promise;
    } catch (error) {
        current.users -= 1;
        throw error;
    }
    let released = false;
    return {
        model,
        release: async () => {
            if (released) return;
            released = true;
            current.users -= 1;
            if (current.users === 0 && models.get(path) === current) {
                models.delete(path);
                await model.dispose();
            }
        },
    };
}

/** `models/policy.gguf` → `policy`. */
export function modelNameFromPath(path: string): string {
    return basename(path).replace(/\.gguf$/i, "");
}
