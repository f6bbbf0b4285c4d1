import { availableParallelism, freemem } from "node:os";
import { basename } from "node:path";
import { readFileSync } from "node:fs";
import { stat } from "node:fs/promises";
import type { Llama, LlamaModel } from "node-llama-cpp";
import { RstarError } from "../../errors/index.js";

/** Where llama.cpp computes: `off` (CPU only), `auto` (node-llama-cpp's detection: Metal, CUDA or Vulkan when usable, else the CPU) or one GPU API. */
export type GpuChoice = "off" | "auto" | "cuda" | "vulkan" | "metal";
export const GPU_CHOICES: readonly GpuChoice[] = ["off", "auto", "cuda", "vulkan", "metal"];

/** Layers offloaded to the GPU: a count, `auto` (as many as fit, all for a model that fits) or `max` (all, or fail). */
export type GpuLayers = number | "auto" | "max";

export interface ModelLoadOptions {
    /** Default `off`. */
    gpu?: GpuChoice;
    /** Default `auto`; ignored (0) when the GPU is off or none is usable. */
    gpuLayers?: GpuLayers;
}

/** What was loaded and where, for logs and `--json`. */
export interface LoadedModelInfo {
    file: string;
    /** Bytes of weights. */
    sizeBytes: number;
    /** The GPU API in use, or `false` (CPU only). */
    gpu: "cuda" | "vulkan" | "metal" | false;
    gpuLayers: number;
    totalLayers: number;
    /** `tokenizer.chat_template` from the GGUF metadata, when it has one. */
    chatTemplate: string | null;
}

const llamas = new Map<GpuChoice, Promise<Llama>>();

/**
 * The process-wide node-llama-cpp instance for a GPU choice, created on first use: prebuilt binaries only (never a
 * build or a download), logs at error level. `off` (the default) is CPU only; `auto` takes the best GPU whose prebuild
 * is installed and works, else the CPU; `cuda`/`vulkan`/`metal` fail (BACKEND_UNAVAILABLE) when that one cannot run.
 * Later calls with the same choice get the same instance. RSTAR_MAX_RAM / RSTAR_MAX_VRAM (see `memoryCaps`) cap what
 * node-llama-cpp may use for models and contexts.
 */
export function getSharedLlama(gpu: GpuChoice = "off"): Promise<Llama> {
    let promise = llamas.get(gpu);
    if (promise === undefined) {
        promise = (async () => {
            const caps = memoryCaps();
            const { getLlama, LlamaLogLevel } = await import("node-llama-cpp");
            let llama: Llama;
            try {
                llama = await getLlama({ gpu: gpu === "off" ? false : gpu, build: "never", skipDownload: true, progressLogs: false, logLevel: LlamaLogLevel.error });
            } catch (error) {
                const hint =
                    gpu === "off" || gpu === "auto"
                        ? "node-llama-cpp's CPU prebuild"
                        : `node-llama-cpp's ${gpu} prebuild (installed by a plain \`npm install\`, not by the CPU-only install) and a working ${gpu} driver; --gpu auto falls back to the CPU`;
                throw new RstarError("BACKEND_UNAVAILABLE", `cannot start llama.cpp with --gpu ${gpu} (needs ${hint}): ${(error as Error).message}`, { cause: error, details: { gpu } });
            }
            if (gpu !== "off" && gpu !== "auto" && llama.gpu !== gpu) {
                // node-llama-cpp falls back to another build when the one asked for cannot run (Metal off a Mac)
                await llama.dispose();
                throw new RstarError("BACKEND_UNAVAILABLE", `cannot start llama.cpp with --gpu ${gpu}: no usable ${gpu} build here (node-llama-cpp offered ${llama.gpu === false ? "the CPU" : llama.gpu}); --gpu auto takes what there is`, { details: { gpu } });
            }
            if (caps.ram !== null) await llama.setRamCap(caps.ram);
            if (caps.vram !== null) await llama.setVramCap(caps.vram);
            return llama;
        })();
        promise.catch(() => {
            if (llamas.get(gpu) === promise) llamas.delete(gpu);
        });
        llamas.set(gpu, promise);
    }
    return promise;
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

/** "512MiB", "2G", "1.5GB", "1048576" → bytes (binary units: K = 1024). */
export function parseByteSize(text: string, where: string): number {
    const match = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b)?\s*$/i.exec(text);
    if (match === null) throw new RstarError("INVALID_ARGUMENT", `${where} must be a size such as 512MiB, 8G or a number of bytes, got "${text}"`);
    const power = " kmgt".indexOf((match[2] ?? "").toLowerCase() || " ");
    return Math.floor(Number(match[1]) * 1024 ** power);
}

/**
 * Caps on the memory models may use, from the environment: RSTAR_MAX_RAM and RSTAR_MAX_VRAM (e.g. "6GiB"). A model
 * or context that would need more fails with INSUFFICIENT_MEMORY before anything is allocated.
 */
export function memoryCaps(env: NodeJS.ProcessEnv = process.env): { ram: number | null; vram: number | null } {
    const read = (name: string) => {
        const value = env[name];
        return value === undefined || value.trim() === "" ? null : parseByteSize(value, name);
    };
    return { ram: read("RSTAR_MAX_RAM"), vram: read("RSTAR_MAX_VRAM") };
}

/** RAM free for new allocations: MemAvailable on Linux (page cache counts as free), else os.freemem(). */
export function availableRam(): number {
    try {
        const match = /^MemAvailable:\s+(\d+) kB$/m.exec(readFileSync("/proc/meminfo", "utf8"));
        if (match) return Number(match[1]) * 1024;
    } catch {
        // not Linux
    }
    return freemem();
}

export function formatBytes(bytes: number): string {
    const units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let value = bytes;
    let unit = 0;
    while (value >= 1024 && unit < units.length - 1) {
        value /= 1024;
        unit += 1;
    }
    return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

/** The error for a model or context that does not fit: names the model, what it needs and what was free. */
export function insufficientMemory(file: string, what: string, need: { ram: number; vram: number } | null, free: { ram: number; vram: number | null }, cause?: unknown): RstarError {
    const caps = memoryCaps();
    const parts = [`RAM ${formatBytes(free.ram)} free${caps.ram === null ? "" : ` (RSTAR_MAX_RAM ${formatBytes(caps.ram)})`}`];
    if (free.vram !== null) parts.push(`VRAM ${formatBytes(free.vram)} free${caps.vram === null ? "" : ` (RSTAR_MAX_VRAM ${formatBytes(caps.vram)})`}`);
    const needs = need === null ? "does not fit" : `needs ${[`${formatBytes(need.ram)} of RAM`, ...(need.vram > 0 ? [`${formatBytes(need.vram)} of VRAM`] : [])].join(" and ")}`;
    return new RstarError(
        "INSUFFICIENT_MEMORY",
        `${file}: ${what} ${needs}; ${parts.join(", ")}. Nothing was loaded: use a smaller (more quantised) model, fewer --gpu-layers, a smaller context, or free memory`,
        { ...(cause === undefined ? {} : { cause }), details: { file, needRam: need?.ram ?? null, needVram: need?.vram ?? null, freeRam: free.ram, freeVram: free.vram, ramCap: caps.ram, vramCap: caps.vram } },
    );
}

/** Free RAM and VRAM as this process may use them (the caps applied). */
export async function freeMemory(llama: Llama): Promise<{ ram: number; vram: number | null }> {
    const caps = memoryCaps();
    const ram = Math.min(availableRam(), caps.ram ?? Infinity);
    if (llama.gpu === false) return { ram, vram: null };
    const state = await llama.getVramState();
    return { ram, vram: Math.min(state.free, caps.vram ?? Infinity) };
}

interface ModelEntry {
    promise: Promise<{ model: LlamaModel; info: LoadedModelInfo }>;
    users: number;
}

const models = new Map<string, ModelEntry>();

/**
 * Loads a GGUF once per process and GPU setting and shares it (weights are read-only; each user creates its own
 * contexts). Call the returned `release` once; the model is disposed when its last user releases it.
 * Before loading, the weights that stay on the CPU are checked against the free RAM (and node-llama-cpp checks the
 * offloaded ones against the free VRAM): a model that does not fit fails with INSUFFICIENT_MEMORY, never a crash or
 * a swap storm.
 */
export async function acquireModel(path: string, options: ModelLoadOptions = {}): Promise<{ model: LlamaModel; info: LoadedModelInfo; release: () => Promise<void> }> {
    const asked = options.gpu ?? "off";
    const bytes = await stat(path).then(
        (info) => info.size,
        () => Infinity,
    );
    const gpu = asked === "auto" && bytes < AUTO_GPU_MIN_BYTES ? "off" : asked;
    const gpuLayers = gpu === "off" ? 0 : (options.gpuLayers ?? "auto");
    const key = `${gpu}:${String(gpuLayers)}:${path}`;
    let entry = models.get(key);
    if (entry === undefined) {
        const promise = loadModel(path, gpu, gpuLayers);
        entry = { promise, users: 0 };
        models.set(key, entry);
        promise.catch(() => {
            if (models.get(key) === entry) models.delete(key);
        });
    }
    const current = entry;
    current.users += 1;
    let loaded: { model: LlamaModel; info: LoadedModelInfo };
    try {
        loaded = await current.promise;
    } catch (error) {
        current.users -= 1;
        throw error;
    }
    let released = false;
    return {
        model: loaded.model,
        info: loaded.info,
        release: async () => {
            if (released) return;
            released = true;
            current.users -= 1;
            if (current.users === 0 && models.get(key) === current) {
                models.delete(key);
                await loaded.model.dispose();
            }
        },
    };
}

/**
 * Under `gpu: "auto"`, a GGUF smaller than this stays on the CPU: a GPU gains nothing for a model this small, and its
 * results then stay the same on every machine (the shipped and test models are ~2 MB). An explicit API offloads it.
 */
export const AUTO_GPU_MIN_BYTES = 64 * 1024 ** 2;

async function loadModel(path: string, gpu: GpuChoice, gpuLayers: GpuLayers): Promise<{ model: LlamaModel; info: LoadedModelInfo }> {
    try {
        const info = await stat(path);
        if (!info.isFile()) throw new Error("not a file");
    } catch (error) {
        throw new RstarError("FILE_NOT_FOUND", `${path}: no such GGUF model file`, { cause: error, details: { file: path } });
    }
    const llama = await getSharedLlama(gpu);
    const { readGgufFileInfo, GgufInsights, InsufficientMemoryError } = await import("node-llama-cpp");
    let insights: Awaited<ReturnType<typeof GgufInsights.from>>;
    try {
        insights = await GgufInsights.from(await readGgufFileInfo(path, { sourceType: "filesystem" }), llama);
    } catch (error) {
        throw new RstarError("INVALID_INPUT", `${path}: cannot read as a GGUF model (${(error as Error).message})`, { cause: error, details: { file: path } });
    }
    const offload = llama.gpu === false ? 0 : gpuLayers;
    // The CPU share of the weights, before anything is allocated: with a fixed layer count it is known now; with
    // "auto"/"max" node-llama-cpp resolves the layers against the free VRAM and the RAM check follows the load.
    const free = await freeMemory(llama);
    if (typeof offload === "number") {
        const need = insights.estimateModelResourceRequirements({ gpuLayers: Math.min(offload, insights.totalLayers) });
        if (need.cpuRam > free.ram || (free.vram !== null && need.gpuVram > free.vram)) throw insufficientMemory(path, `the model (${formatBytes(insights.modelSize)})`, { ram: need.cpuRam, vram: need.gpuVram }, free);
    } else {
        const best = insights.estimateModelResourceRequirements({ gpuLayers: insights.totalLayers });
        if (best.cpuRam > free.ram) throw insufficientMemory(path, `the model (${formatBytes(insights.modelSize)})`, { ram: best.cpuRam, vram: best.gpuVram }, free);
    }
    let model: LlamaModel;
    try {
        model = await llama.loadModel({ modelPath: path, gpuLayers: offload });
    } catch (error) {
        if (error instanceof InsufficientMemoryError) {
            const need = insights.estimateModelResourceRequirements({ gpuLayers: typeof offload === "number" ? offload : insights.totalLayers });
            throw insufficientMemory(path, `the model (${formatBytes(insights.modelSize)}) with --gpu-layers ${String(offload)}`, { ram: need.cpuRam, vram: need.gpuVram }, free, error);
        }
        throw new RstarError("INVALID_INPUT", `${path}: cannot load as a GGUF model (${(error as Error).message})`, { cause: error, details: { file: path } });
    }
    if (typeof offload !== "number") {
        const need = insights.estimateModelResourceRequirements({ gpuLayers: model.gpuLayers });
        if (need.cpuRam > free.ram) {
            await model.dispose();
            throw insufficientMemory(path, `the model (${formatBytes(insights.modelSize)}) with ${model.gpuLayers} of ${insights.totalLayers} layers on the GPU`, { ram: need.cpuRam, vram: need.gpuVram }, free);
        }
    }
    const template = model.fileInfo.metadata.tokenizer?.chat_template;
    return {
        model,
        info: {
            file: path,
            sizeBytes: insights.modelSize,
            gpu: llama.gpu,
            gpuLayers: model.gpuLayers,
            totalLayers: insights.totalLayers,
            chatTemplate: typeof template === "string" && template.trim() !== "" ? template : null,
        },
    };
}

/** `models/policy.gguf` → `policy`. */
export function modelNameFromPath(path: string): string {
    return basename(path).replace(/\.gguf$/i, "");
}
