import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { DatasetProblem } from "../data/index.js";
import { RstarError } from "../errors/index.js";
import { runSearch, type RunProgress, type RunSearchOptions, type RunSummary } from "../runs/index.js";
import type { SearchServices, SearchSettings } from "../search/index.js";
import { parseJson } from "../util/index.js";
import { gradeRun, type EvalProblemRecord } from "./grade-run.js";
import { checkEvalSettings } from "./methods.js";
import { computeMetrics, scalingCurve, type GradedProblem, type Interval, type Metrics, type ScalingPoint } from "./metrics.js";

export interface RunEvalOptions {
    dir: string;
    resume: boolean;
    datasetPath: string;
    /** Problems with their gold answers; the search sees them without. */
    problems: readonly DatasetProblem[];
    settings: SearchSettings;
    /** "greedy", "maj@8", ... */
    method: string;
    preset: string | null;
    services: SearchServices;
    concurrency: number;
    versions: Record<string, string>;
    /** Draws per k of the test-time-scaling curve (default 8). */
    draws?: number;
    /**
     * Runs the search (default `runSearch`, in this process); `rstar eval --queue` passes one that sends the problems
     * to `rstar worker`s. `services` then only grade.
     */
    search?: (options: RunSearchOptions) => Promise<RunSummary>;
    /** eval.json's `policy` (default: the policy backend's id). */
    policyName?: string;
    signal?: AbortSignal;
    onProgress?: (progress: RunProgress) => void;
}

/** eval.json: what `rstar eval --json` prints and `rstar report` reads. */
export interface EvalSummary {
    format: "rstar-eval/1";
    method: string;
    dataset: string;
    policy: string;
    rewardModel: string | null;
    settings: SearchSettings;
    /** Problems graded (finished or failed, with a gold answer). */
    problems: number;
    /** Problems in the dataset slice. */
    total: number;
    failed: number;
    /** The method's selected answer, graded after selection. */
    accuracy: number;
    ci95: Interval;
    top_value: { accuracy: number; ci95: Interval };
    majority: { accuracy: number; ci95: Interval; top_k: number };
    weighted: { accuracy: number; ci95: Interval; top_k: number };
    /** Oracle: some trajectory is correct. Looks at the gold answer; not a selection method. */
    pass_at_k: { accuracy: number; ci95: Interval; k: number; oracle: true };
    tokens_per_problem: number;
    requests_per_problem: number;
    seconds_per_problem: number;
    /** Mean finished trajectories (terminal answers) per problem. */
    trajectories_per_problem: number;
    /** Wall-clock seconds of the whole run so far (this session). */
    wall_seconds: number;
    concurrency: number;
    scaling: ScalingPoint[];
    interrupted: boolean;
    out: string;
}

export function evalPaths(dir: string) {
    return { summary: join(dir, "eval.json"), problems: join(dir, "problems.jsonl") };
}

/**
 * One evaluation: a durable search run over the problems with their gold answers hidden (the search, its terminal
 * rewards and its answer selection never see them), then grading after selection, the metrics, the test-time-scaling
 * curve, eval.json and problems.jsonl. kill -9 and `resume` lose nothing: the search run's store keeps every finished
 * problem, and grading is redone from it.
 */
export async function runEval(options: RunEvalOptions): Promise<{ summary: EvalSummary; records: EvalProblemRecord[]; run: RunSummary }> {
    checkEvalSettings(options.settings);
    if (options.problems.length === 0) throw new RstarError("INVALID_INPUT", `${options.datasetPath} has no problems`);
    const withoutGold = options.problems.map((problem) => ({ ...problem, answer: null }));
    const run = await (options.search ?? runSearch)({
        dir: options.dir,
        resume: options.resume,
        datasetPath: options.datasetPath,
        problems: withoutGold,
        settings: options.settings,
        preset: options.preset,
        services: options.services,
        concurrency: options.concurrency,
        versions: options.versions,
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
    const golds = new Map(options.problems.map((problem) => [problem.position, problem.answer] as const));
    const { records, graded } = await gradeRun(options.dir, golds, options.services.judge, { voteTopK: options.settings.voteTopK, selection: options.settings.answerSelection });
    const summary = summarize({
        method: options.method,
        dataset: options.datasetPath,
        policy: options.policyName ?? options.services.policy.id,
        rewardModel: options.services.rewardModel?.name ?? null,
        settings: options.settings,
        total: options.problems.length,
        records,
        graded,
        wallSeconds: run.durationMs / 1000,
        concurrency: options.concurrency,
        interrupted: run.aborted,
        out: options.dir,
        ...(options.draws !== undefined ? { draws: options.draws } : {}),
    });
    writeEval(options.dir, summary, records);
    return { summary, records, run };
}

export interface SummarizeInput {
    method: string;
    dataset: string;
    policy: string;
    rewardModel: string | null;
    settings: SearchSettings;
    total: number;
    records: readonly EvalProblemRecord[];
    graded: readonly GradedProblem[];
    wallSeconds: number;
    concurrency: number;
    interrupted: boolean;
    out: string;
    draws?: number;
    seed?: number;
}

export function summarize(input: SummarizeInput): EvalSummary {
    const metrics: Metrics = computeMetrics(input.graded, input.settings.voteTopK);
    const finished = input.records.filter((record) => record.error === null);
    const mean = (pick: (record: EvalProblemRecord) => number) => (finished.length === 0 ? 0 : finished.reduce((sum, record) => sum + pick(record), 0) / finished.length);
    return {
        format: "rstar-eval/1",
        method: input.method,
        dataset: input.dataset,
        policy: input.policy,
        rewardModel: input.rewardModel,
        settings: input.settings,
        problems: metrics.problems,
        total: input.total,
        failed: input.records.length - finished.length,
        accuracy: metrics.accuracy.value,
        ci95: metrics.accuracy.ci95,
        top_value: { accuracy: metrics.topValue.value, ci95: metrics.topValue.ci95 },
        majority: { accuracy: metrics.majority.value, ci95: metrics.majority.ci95, top_k: metrics.majority.topK },
        weighted: { accuracy: metrics.weighted.value, ci95: metrics.weighted.ci95, top_k: metrics.weighted.topK },
        pass_at_k: { accuracy: metrics.passAtK.value, ci95: metrics.passAtK.ci95, k: metrics.passAtK.k, oracle: true },
        tokens_per_problem: mean((record) => record.tokens),
        requests_per_problem: mean((record) => record.requests),
        seconds_per_problem: mean((record) => record.seconds),
        trajectories_per_problem: mean((record) => record.terminals.length),
        wall_seconds: input.wallSeconds,
        concurrency: input.concurrency,
        scaling: scalingCurve(input.graded, { draws: input.draws ?? 8, seed: input.seed ?? 0 }),
        interrupted: input.interrupted,
        out: input.out,
    };
}

function writeEval(dir: string, summary: EvalSummary, records: readonly EvalProblemRecord[]): void {
    const paths = evalPaths(dir);
    writeFileSync(paths.problems, records.map((record) => JSON.stringify(record)).join("\n") + (records.length > 0 ? "\n" : ""));
    writeFileSync(paths.summary, JSON.stringify(summary, null, 2) + "\n");
}

/** Reads an evaluation directory written by `runEval`. */
export function readEval(dir: string): { summary: EvalSummary; records: EvalProblemRecord[] } {
    const paths = evalPaths(dir);
    if (!existsSync(paths.summary)) throw new RstarError("FILE_NOT_FOUND", `${dir} has no eval.json (run \`rstar eval --out ${dir}\` first)`);
    const summary = parseJson(readFileSync(paths.summary, "utf8"));
    if (!summary.ok || typeof summary.value !== "object" || summary.value === null || (summary.value as { format?: unknown }).format !== "rstar-eval/1") {
        throw new RstarError("INVALID_INPUT", `${paths.summary} is not an rstar eval summary`);
    }
    const records: EvalProblemRecord[] = [];
    const text = existsSync(paths.problems) ? readFileSync(paths.problems, "utf8") : "";
    for (const [line, content] of text.split("\n").entries()) {
        if (content.trim() === "") continue;
        const parsed = parseJson(content);
        if (!parsed.ok) throw new RstarError("INVALID_INPUT", `${paths.problems} line ${line + 1}: ${parsed.error}`);
        records.push(parsed.value as EvalProblemRecord);
    }
    return { summary: summary.value as EvalSummary, records };
}
