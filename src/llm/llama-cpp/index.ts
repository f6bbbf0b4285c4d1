export { LlamaCppBackend } from "./backend.js";
export type { LlamaCppBackendOptions } from "./backend.js";
export { acquireModel, defaultParallelSequences, defaultThreadCount, getSharedLlama, modelNameFromPath } from "./shared-llama.js";
