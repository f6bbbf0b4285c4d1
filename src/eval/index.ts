/** Evaluation: `rstar eval` runs with the official metrics, test-time-scaling curves and `rstar report`. */
export { parseMethod, methodPreset, methodSettings, checkEvalSettings } from "./methods.js";
export type { EvalMethod } from "./methods.js";
export { runEval, summarize, readEval, evalPaths } from "./run-eval.js";
export type { RunEvalOptions, EvalSummary, SummarizeInput } from "./run-eval.js";
export { compareTags, gradeRun, trajectoryOf, levelOf } from "./grade-run.js";
export type { EvalProblemRecord, TrajectoryStep } from "./grade-run.js";
export { wilson, rate, choose, problemVerdicts, computeMetrics, scalingCurve, scalingKs, pairedDifference, seededRandom } from "./metrics.js";
export type { GradedProblem, GradedTerminal, Interval, Rate, Metrics, ScalingPoint, ScalingOptions, PairedDifference, ProblemVerdicts } from "./metrics.js";
export { buildReport, loadReportRun, project } from "./report.js";
export type { ReportRun, ReportOptions, ProjectionOptions, Projection } from "./report.js";
export { renderSvg, scalingSpec, metricsSpec, difficultySpec, costSpec, roundsAccuracySpec, roundsTimeSpec } from "./report-charts.js";
export { roundsSection } from "./report-rounds.js";
export type { RoundsInput, RoundsRow } from "./report-rounds.js";
