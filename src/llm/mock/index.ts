export { MockLlmBackend } from "./mock-llm-backend.js";
export type { MockCall, MockCompletion, MockLlmBackendOptions, MockResponse, MockScript } from "./mock-llm-backend.js";
