/** Self-evolution: the paper's rounds of search, extraction and training as durable, resumable stages (docs/evolve.md). */
export { loadEvolveConfig, paperDefaults, syntheticPreset, mergeConfig, configSchema, CONFIG_PRESETS, PLACEHOLDERS } from "./config.js";
export type { EvolveConfig, LoadedConfig, RoundConfig, Endpoint, RewardEndpoint, Trainer } from "./config.js";
export { runEvolve, evolveConfigPath } from "./run-evolve.js";
export type { EvolveOptions, EvolveEvent, EvolveResult } from "./run-evolve.js";
export { dryRun } from "./dry-run.js";
export { exportModels, MODELS_FORMAT } from "./export-models.js";
export type { ExportModelsOptions, ExportedModels } from "./export-models.js";
export type { DryRunResult, PlannedStage, DryRunCheck } from "./dry-run.js";
export { ROUND_REPORT_FORMAT, EVOLVE_REPORT_FORMAT } from "./report.js";
export type { RoundReport } from "./report.js";
export { STATE_FORMAT, readState } from "./state.js";
export type { RoundState, StageState } from "./state.js";
export { isEvolveDir, readEvolveDir } from "./report-dir.js";
export type { EvolveDirView, EvolveRoundView, EvolveEvalView } from "./report-dir.js";
export { WORKER_MODELS_FORMAT, workerModelsSchema, readWorkerModels, resolveWorkerModels, describeWorkerModels, verifyWorkerModels, startWorkerModels, checkpointFiles, servedModel, describeReward } from "./worker-models.js";
export type { WorkerModels, WorkerModelsFile, ServedWorkerModels } from "./worker-models.js";
