export { LLM_BACKEND_SPEC_VERSION } from "./types.js";
export type {
    Completion,
    FinishReason,
    GenerateRequest,
    GenerateResult,
    LlmBackend,
    LlmBackendSpecVersion,
    ModelInfo,
    SamplingSettings,
    TokenUsage,
} from "./types.js";
export { OpenAiCompatibleBackend, resolveStop } from "./openai-compatible/index.js";
export type { OpenAiCompatibleOptions, RetryEvent, StopResolver } from "./openai-compatible/index.js";
export { MockLlmBackend } from "./mock/index.js";
export type { MockCall, MockCompletion, MockLlmBackendOptions, MockResponse, MockScript } from "./mock/index.js";
export { LlmBackendRegistry, NoSuchBackendError, createDefaultRegistry, resolveLlmBackend } from "./registry.js";
export type { BackendFactory, BackendFactoryOptions } from "./registry.js";
// HTTP building blocks shared with other OpenAI-compatible clients (the reward-model backends reuse them).
export { ConcurrencyLimit } from "./openai-compatible/concurrency-limit.js";
export { EndpointPool } from "./openai-compatible/endpoint-pool.js";
export type { Endpoint } from "./openai-compatible/endpoint-pool.js";
export { isRetryableStatus, parseRetryAfter, retryDelay } from "./openai-compatible/retry-policy.js";
export { abortableSleep } from "./openai-compatible/transport.js";
export { validateGenerateRequest } from "./validate-request.js";
export { RetryingJsonClient } from "./openai-compatible/retrying-json-client.js";
export { LLM_HTTP_PROFILE, REWARD_HTTP_PROFILE, integerOption, resolveHttpSettings } from "./openai-compatible/http-settings.js";
export type { HttpSettingsOptions, HttpSettingsProfile, ResolvedHttpSettings } from "./openai-compatible/http-settings.js";
export type { RetryingJsonClientHooks, RetryingJsonClientSettings } from "./openai-compatible/retrying-json-client.js";
export type { HttpAnswer } from "./openai-compatible/transport.js";
export { httpStatusError, invalidResponseError, serverMessage } from "./openai-compatible/wire-errors.js";
export {
    GPU_CHOICES,
    LlamaCppBackend,
    acquireModel,
    defaultParallelSequences,
    defaultThreadCount,
    formatBytes,
    freeMemory,
    getSharedLlama,
    insufficientMemory,
    memoryCaps,
    modelNameFromPath,
    parseByteSize,
} from "./llama-cpp/index.js";
export type { ChatRenderer, GpuChoice, GpuLayers, LlamaCppBackendOptions, LlamaCppPolicyInfo, LoadedModelInfo, ModelLoadOptions } from "./llama-cpp/index.js";
