export { runSearch, runPaths } from "./run-search.js";
export type { RunSearchOptions, RunSummary } from "./run-search.js";
export type { RunProgress } from "./progress.js";
export { RunStore } from "./run-store.js";
export type { StoredProblem } from "./run-store.js";
export { RUN_FORMAT, readRunConfig } from "./run-config.js";
export type { RunConfig } from "./run-config.js";
export { AdaptiveConcurrency } from "./adaptive-concurrency.js";
export type { AdaptiveConcurrencyOptions, ConcurrencyDecision } from "./adaptive-concurrency.js";
