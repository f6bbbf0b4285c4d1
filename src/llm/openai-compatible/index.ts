export { OpenAiCompatibleBackend } from "./backend.js";
export type { OpenAiCompatibleOptions, RetryEvent } from "./options.js";
export { resolveStop } from "./stop-resolution.js";
export type { StopResolver, ReportedStop, ResolvedStop } from "./stop-resolution.js";
export { isRetryableStatus, parseRetryAfter, retryDelay } from "./retry-policy.js";
