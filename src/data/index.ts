export { loadDataset } from "./datasets.js";
export type { DatasetProblem, LoadDatasetOptions } from "./datasets.js";
export { BENCHMARKS, BENCHMARK_NAMES, benchmarkPath, benchmarksDir } from "./benchmarks.js";
export type { BenchmarkName } from "./benchmarks.js";
export { extractSft, extractPpm, EXTRACT_FORMATS } from "./extract-run.js";
export type {
    ExtractFormat,
    ExtractGrader,
    ExtractIssue,
    ExtractProgress,
    ExtractSftOptions,
    ExtractPpmOptions,
    ExtractSummary,
    SftSummary,
    PpmSummary,
    PpmLabelling,
} from "./extract-run.js";
export { readTreeRecord, officialPrompt, isValidFinalAnswer, OFFICIAL_MAX_CHILDREN } from "./extract-tree.js";
export type { ExtractionTree, TreeNode, TreeReadResult } from "./extract-tree.js";
export { selectSft, correctTrajectories, SftPool, officialSftRecord, trlSftRecord } from "./extract-sft.js";
export type { SftSelection, SftTrajectory, OfficialSftRecord, TrlSftRecord } from "./extract-sft.js";
export {
    selectPairs,
    selectFinalAnswerPairs,
    officialLeafLabel,
    officialPpmRecord,
    officialFinalAnswerRecord,
    trlPpmRecord,
    trlFinalAnswerRecord,
    OFFICIAL_PPM_OPTIONS,
    FINAL_ANSWER_PAIRS,
} from "./extract-ppm.js";
export type { PpmOptions, PpmPair, PpmSelection, FinalAnswerPair, LeafLabel, OfficialPpmRecord, TrlPpmRecord, FinalAnswerPairs } from "./extract-ppm.js";
export { editDistance } from "./extract-python.js";
