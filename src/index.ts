// The library's public API, listed by name (no `export *` at the root).

export { RstarError, InputError } from "./errors/index.js";
export type { RstarErrorCode } from "./errors/index.js";

export { createSandbox } from "./sandbox/index.js";
export type { Sandbox, SandboxOptions, ExecResult, ExecError, IsolationReport } from "./sandbox/index.js";

export { createGrader, equalFast, extractAnswer, finalAnswer } from "./grading/index.js";
export type { Grader, GraderOptions, JudgeOptions, Judgement, FinalAnswer, AnswerSource } from "./grading/index.js";

export { OpenAiCompatibleBackend, LlamaCppBackend, MockLlmBackend, LLM_BACKEND_SPEC_VERSION, createDefaultRegistry, resolveLlmBackend } from "./llm/index.js";
export type { LlmBackend, GenerateRequest, GenerateResult, Completion, OpenAiCompatibleOptions, LlamaCppBackendOptions } from "./llm/index.js";
export type { GpuChoice, GpuLayers, LlamaCppPolicyInfo, ChatRenderer } from "./llm/index.js";

export { sftPrompt, bootstrapPrompt, renderPrompt, parseStep, programForStep, outputSuffix, Marker, STEP_STOPS } from "./steps/index.js";
export { chatPromptFormatter } from "./steps/index.js";
export type { ParsedStep, PromptTemplateName } from "./steps/index.js";

export { ScriptedRewardModel, LlamaCppPpm, PoolingPpm, HttpPrm, BatchingRewardModel, ValueHead, loadPpmDirectory } from "./reward/index.js";
export type { RewardModel, RewardItem } from "./reward/index.js";

export { solveProblem, PRESETS, BASE_SETTINGS, toOfficialStates, selectAnswer } from "./search/index.js";
export type { SearchSettings, SearchServices, SearchProblem, ProblemOutcome, SearchEvent, TerminalAnswer, StepExecutor, AnswerJudge } from "./search/index.js";
export { searchSettingsSchema, validateSettings } from "./search/index.js";

export { loadDataset } from "./data/index.js";
export type { DatasetProblem, LoadDatasetOptions, BenchmarkName } from "./data/index.js";
export { BENCHMARKS, BENCHMARK_NAMES, benchmarkPath } from "./data/index.js";

export { extractSft, extractPpm } from "./data/index.js";

export { generateDataset, TeacherBackend } from "./synth/index.js";

export { runSearch, RunStore } from "./runs/index.js";
export type { RunSearchOptions, RunSummary, RunProgress, RunConfig } from "./runs/index.js";

export { runEval, readEval, gradeRun, computeMetrics, scalingCurve, pairedDifference, wilson, buildReport, loadReportRun, parseMethod, methodSettings } from "./eval/index.js";
export type { EvalSummary, EvalProblemRecord, GradedProblem, Metrics, ScalingPoint, PairedDifference, ReportRun } from "./eval/index.js";
