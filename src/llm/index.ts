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
