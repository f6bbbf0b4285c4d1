import { appendFileSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import type { DatasetProblem } from "../data/index.js";
import { RstarError } from "../errors/index.js";
import { checkSettings, solveProblem, type ProblemOutcome, type SearchServices, type SearchSettings } from "../search/index.js";
import { RunProgressTracker, type RunProgress } from "./progress.js";
import { RUN_FORMAT, readRunConfig, resultAffectingDifferences, sha256, writeRunConfig, type RunConfig } from "./run-config.js";
import { RunStore } from "./run-store.js";
import { AdaptiveConcurrency } from "./adaptive-concurrency.js";
import type { LlmBackend } from "../llm/index.js";
import { resultRecord, treeRecord, errorRecord, selectionSawGold } from "./records.js";

export interface RunSearchOptions {
    /** The run directory; created when missing. */
    dir: string;
    /** Continue a run in `dir`: finished problems are kept, the rest are (re)done. */
    resume: boolean;
    datasetPath: string;
    problems: readonly DatasetProblem[];
    settings: SearchSettings;
    preset: string | null;
    services: SearchServices;
    /**
     * Problems searched at once: a number pins it; an AdaptiveConcurrency grows and shrinks it with the policy
     * server's throughput and latency (it sees every policy request's latency). Results do not depend on it.
     */
    concurrency: number | AdaptiveConcurrency;
    versions: Record<string, string>;
    /** Stored in config.json as `invocation` (what `--resume` needs to start the run again). */
    invocation?: Record<string, unknown>;
    signal?: AbortSignal;
    onProgress?: (progress: RunProgress) => void;
}

export interface RunSummary {
    dir: string;
    total: number;
    /** Problems finished in earlier sessions of this run (resume). */
    resumed: number;
    finished: number;
    failed: number;
    /**
     * Accuracy of the selected answers over finished problems with gold answers whose selection did not see the gold
     * answer; null when there are none (no gold answers, or ground-truth terminal reward, where it would equal passAny).
     */
    accuracy: number | null;
    /** Share of finished problems with gold answers that any rollout solved (some terminal answer correct). */
    passAny: number | null;
    /** Whether answers were selected with the gold answer's help (the run's terminal reward is ground-truth), so no accuracy is given. */
    selectionSawGold: boolean;
    durationMs: number;
    aborted: boolean;
}

/** A run's summary from its progress tracker (one process, or a queue coordinator). `started` is performance.now() at the start. */
export function summarizeRun(
    run: { dir: string; problems: readonly unknown[]; settings: SearchSettings },
    tracker: RunProgressTracker,
    session: { resumed: number; failed: number; started: number; aborted: boolean },
): RunSummary {
    const totals = tracker.snapshot();
    return {
        dir: run.dir,
        total: run.problems.length,
        resumed: session.resumed,
        finished: totals.done,
        failed: session.failed,
        accuracy: totals.blindGraded > 0 ? totals.blindCorrect / totals.blindGraded : null,
        passAny: totals.graded > 0 ? totals.passAny / totals.graded : null,
        selectionSawGold: run.settings.terminalReward === "ground-truth",
        durationMs: performance.now() - session.started,
        aborted: session.aborted,
    };
}

/** Errors that say the run cannot go on (the server, sandbox or settings are unusable), as opposed to one bad problem. */
export const RUN_STOPPING_CODES: ReadonlySet<string> = new Set(["BACKEND_UNAVAILABLE", "BACKEND_TIMEOUT", "BACKEND_MODEL_NOT_FOUND", "ABORTED", "PYTHON_UNAVAILABLE", "SANDBOX_START_FAILED", "SANDBOX_DISPOSED", "CONFIG_INVALID", "RUN_STORE"]);

/**
 * A durable search run over a dataset. Problems are searched `concurrency` at a time, each as soon as a slot frees
 * (no barrier across problems). Every finished problem is committed to the SQLite store before it is exported to
 * results.jsonl and trees.jsonl; on resume the exports are rebuilt from the store, so a crash at any moment loses
 * only unfinished problems and never duplicates one.
 */
export async function runSearch(options: RunSearchOptions): Promise<RunSummary> {
    const started = performance.now();
    checkSettings(options.settings, options.services);
    const { paths } = await prepareRun({
        ...options,
        policy: { id: options.services.policy.id, model: options.services.policy.model },
        rewardModel: options.services.rewardModel?.name ?? null,
    });

    const store = new RunStore(paths.store);
    try {
        rebuildExports(store, paths);
        const finished = store.finishedPositions();
        const todo = options.problems.filter((problem) => !finished.has(problem.position));
        const tracker = new RunProgressTracker(options.problems.length, finished.size, options.onProgress);
        for (const stored of store.all()) tracker.countStored(stored.result, selectionSawGold(stored.result, options.settings));

        let failed = 0;
        let stopError: unknown = null;
        const controller = new AbortController();
        const signal = options.signal ? AbortSignal.any([options.signal, controller.signal]) : controller.signal;
        let next = 0;
        const adaptive = options.concurrency instanceof AdaptiveConcurrency ? options.concurrency : null;
        const limit = () => (adaptive ? adaptive.limit : Math.max(1, options.concurrency as number));
        const services = adaptive ? { ...options.services, policy: measuredPolicy(options.services.policy, adaptive) } : options.services;
        let running = 0;
        const worker = async () => {
            // A worker ends when the problems run out, or when the adaptive limit fell below the workers running.
            while (next < todo.length && !signal.aborted && running <= limit()) {
                const problem = todo[next] as DatasetProblem;
                next += 1;
                tracker.problemStarted();
                try {
                    const outcome = await solveProblem(
                        { index: problem.position, question: problem.question, gold: problem.answer },
                        options.settings,
                        services,
                        { signal, onEvent: (event) => tracker.onEvent(event) },
                    );
                    record(store, paths, problem, outcome);
                    tracker.problemFinished(outcome);
                } catch (error) {
                    tracker.problemAbandoned();
                    if (signal.aborted || !RstarError.isInstance(error) || RUN_STOPPING_CODES.has(error.code)) {
                        if (!signal.aborted) {
                            stopError = error;
                            controller.abort(error);
                        }
                        return;
                    }
                    failed += 1;
                    const result = errorRecord(problem, error, options.settings);
                    commitRecord(store, paths, problem.position, result, treeRecord(problem, null));
                    tracker.problemFailed(result, selectionSawGold(result, options.settings));
                }
            }
        };
        // Workers start up to the limit, and more start whenever an adaptive limit rises.
        const workers: Promise<void>[] = [];
        const fill = () => {
            while (running < limit() && next < todo.length && !signal.aborted) {
                running += 1;
                workers.push(worker().finally(() => (running -= 1)));
            }
        };
        adaptive?.onChange(fill);
        fill();
        for (let settled = 0; settled < workers.length; settled += 1) await workers[settled];
        tracker.stop();
        if (stopError !== null) throw stopError;
        return summarizeRun(options, tracker, { resumed: finished.size, failed, started, aborted: options.signal?.aborted ?? false });
    } finally {
        store.close();
    }
}

/** The policy, reporting each request's latency to the adaptive limit. */
function measuredPolicy(policy: LlmBackend, adaptive: AdaptiveConcurrency): LlmBackend {
    return new Proxy(policy, {
        get(target, property) {
            if (property !== "generate") {
                const value = Reflect.get(target, property, target) as unknown;
                return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
            }
            return async (...args: Parameters<LlmBackend["generate"]>) => {
                const started = performance.now();
                const result = await target.generate(...args);
                adaptive.requestDone(performance.now() - started);
                return result;
            };
        },
    });
}

export function runPaths(dir: string) {
    return {
        config: join(dir, "config.json"),
        store: join(dir, "store.sqlite"),
        results: join(dir, "results.jsonl"),
        trees: join(dir, "trees.jsonl"),
    };
}

function record(store: RunStore, paths: ReturnType<typeof runPaths>, problem: DatasetProblem, outcome: ProblemOutcome): void {
    commitRecord(store, paths, problem.position, resultRecord(problem, outcome), treeRecord(problem, outcome));
}

/**
 * Commits one finished problem: to the store first (the truth), then to the exports (a tree only when it has one,
 * i.e. not for a failed problem). A crash between the two is repaired by `rebuildExports` on resume.
 */
export function commitRecord(store: RunStore, paths: ReturnType<typeof runPaths>, position: number, result: Record<string, unknown>, tree: Record<string, unknown>): void {
    store.add(position, result, tree);
    appendExports(paths, result, tree);
}

/** Appends a problem's result line, and its tree line when it has one (a failed problem has none). */
function appendExports(paths: ReturnType<typeof runPaths>, result: Record<string, unknown>, tree: Record<string, unknown>): void {
    appendFileSync(paths.results, JSON.stringify(result) + "\n");
    if (tree["rstar"] !== null) appendFileSync(paths.trees, JSON.stringify(tree) + "\n");
}

/** Rewrites results.jsonl and trees.jsonl from the store (the truth after a crash), in finish order. */
export function rebuildExports(store: RunStore, paths: ReturnType<typeof runPaths>, order: "finish" | "position" = "finish"): void {
    writeFileSync(paths.results, "");
    writeFileSync(paths.trees, "");
    for (const stored of store.all(order)) appendExports(paths, stored.result, stored.tree);
}

/** What determines a run besides its problems: enough to write or check its config.json. */
export interface RunIdentity {
    dir: string;
    resume: boolean;
    datasetPath: string;
    problems: readonly DatasetProblem[];
    settings: SearchSettings;
    preset: string | null;
    policy: { id: string; model: string };
    rewardModel: string | null;
    versions: Record<string, string>;
    invocation?: Record<string, unknown>;
    /** A distributed run's worker models (`--worker-models`, resolved), recorded in config.json. */
    workerModels?: Record<string, unknown>;
}

/**
 * Creates the run directory and its config.json, or checks a resumed run's config.json against these settings
 * (RUN_CONFLICT when results would differ). Returns the paths and the run's config (the stored one on resume).
 */
export async function prepareRun(options: RunIdentity): Promise<{ paths: ReturnType<typeof runPaths>; config: RunConfig }> {
    const paths = runPaths(options.dir);
    const config = await currentConfig(options);
    return { paths, config: await prepareDirectory(options, paths, config) };
}

async function currentConfig(options: RunIdentity): Promise<RunConfig> {
    return {
        format: RUN_FORMAT,
        runId: randomBytes(8).toString("hex"),
        createdAt: new Date().toISOString(),
        dataset: { path: options.datasetPath, sha256: sha256(await readFile(options.datasetPath)), problems: options.problems.length },
        preset: options.preset,
        settings: options.settings,
        policy: options.policy,
        rewardModel: options.rewardModel,
        versions: options.versions,
        ...(options.invocation !== undefined ? { invocation: options.invocation } : {}),
        ...(options.workerModels !== undefined ? { workerModels: options.workerModels } : {}),
    };
}

async function prepareDirectory(options: Pick<RunIdentity, "dir" | "resume">, paths: ReturnType<typeof runPaths>, config: RunConfig): Promise<RunConfig> {
    const exists = existsSync(paths.config);
    if (exists && !options.resume) {
        throw new RstarError("RUN_CONFLICT", `${options.dir} already holds a run; pass --resume to continue it or choose another --out`);
    }
    if (!exists && options.resume && existsSync(paths.store)) {
        throw new RstarError("RUN_CONFLICT", `${options.dir} has a store but no config.json; it is not a run this version can resume`);
    }
    mkdirSync(options.dir, { recursive: true });
    if (exists) {
        const stored = await readRunConfig(paths.config);
        const differences = resultAffectingDifferences(stored, config);
        if (differences.length > 0) {
            throw new RstarError("RUN_CONFLICT", `cannot resume ${options.dir}: these differ from the original run: ${differences.join("; ")}`);
        }
        return stored;
    }
    await writeRunConfig(paths.config, config);
    return config;
}
