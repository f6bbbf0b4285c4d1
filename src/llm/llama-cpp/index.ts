export { LlamaCppBackend } from "./backend.js";
export type { LlamaCppBackendOptions, LlamaCppPolicyInfo } from "./backend.js";
export { chatRenderer, type ChatRenderer } from "./chat-template.js";
export {
    AUTO_GPU_MIN_BYTES,
    GPU_CHOICES,
    acquireModel,
    availableRam,
    defaultParallelSequences,
    defaultThreadCount,
    formatBytes,
    freeMemory,
    getSharedLlama,
    insufficientMemory,
    memoryCaps,
    modelNameFromPath,
    parseByteSize,
} from "./shared-llama.js";
export type { GpuChoice, GpuLayers, LoadedModelInfo, ModelLoadOptions } from "./shared-llama.js";
