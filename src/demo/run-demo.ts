import { join } from "node:path";
import { loadDataset } from "../data/index.js";
import { createGrader } from "../grading/index.js";
import { LlamaCppBackend, type LlmBackend } from "../llm/index.js";
import { BatchingRewardModel, LlamaCppPpm } from "../reward/index.js";
import { runSearch, type RunProgress, type RunSummary } from "../runs/index.js";
import { createSandbox } from "../sandbox/index.js";
import { PRESETS, type SearchSettings } from "../search/index.js";
import { STEP_STOPS } from "../steps/index.js";
import { TeacherBackend } from "../synth/index.js";
import type { ShippedModels } from "./shipped-models.js";

export interface DemoOptions {
    models: ShippedModels;
    /** Where the runs (trees, results) go; one run directory per split and method. */
    out: string;
    /** Held-out problems per split. */
    problems: number;
    rollouts: number;
    candidates: number;
    /** llama.cpp threads. */
    threads: number;
    /** Also run the noisy teacher greedily, for comparison. */
    teacher: boolean;
    seed: number;
    versions: Record<string, string>;
    signal?: AbortSignal;
    onPhase?: (phase: string) => void;
    onProgress?: (progress: RunProgress) => void;
}

export interface DemoRow {
    split: "test" | "ood";
    method: "teacher greedy" | "greedy" | "MCTS+PPM";
    accuracy: number | null;
    secondsPerProblem: number;
    problems: number;
    dir: string;
}

/** Greedy decoding, one step per request (the tiny policy and the teacher both write step by step). */
function greedySettings(seed: number): SearchSettings {
    return { ...PRESETS["greedy"]!.settings, stop: [...STEP_STOPS], maxDepth: 16, maxTokens: 256, seed };
}

/** MCTS guided by the PPM: leaf values and terminal rewards from the reward model (official eval-mcts, smaller). */
function mctsSettings(options: DemoOptions): SearchSettings {
    return { ...PRESETS["eval-mcts"]!.settings, rollouts: options.rollouts, candidates: options.candidates, maxTokens: 256, seed: options.seed };
}

/**
 * The offline demo: the shipped tiny policy solves held-out synthetic problems greedily and with MCTS guided by the
 * shipped PPM (both through llama.cpp), next to the noisy teacher that produced their training data.
 */
export async function runDemo(options: DemoOptions): Promise<DemoRow[]> {
    const policy = new LlamaCppBackend({ modelPath: options.models.policy, model: "rstar-tiny-policy", threads: options.threads, sequences: Math.max(1, options.candidates), contextSize: 1024 });
    const ppm = new BatchingRewardModel(await LlamaCppPpm.fromDirectory(options.models.ppm, { threads: options.threads, contextSize: 1024 }));
    const sandbox = await createSandbox({ workers: 1 });
    const grader = createGrader();
    const rows: DemoRow[] = [];
    try {
        for (const split of ["test", "ood"] as const) {
            const path = options.models.heldOut[split];
            const problems = (await loadDataset(path)).slice(0, options.problems);
            const phases: [DemoRow["method"], LlmBackend, SearchSettings, boolean][] = [];
            if (options.teacher) phases.push(["teacher greedy", new TeacherBackend(), greedySettings(options.seed), false]);
            phases.push(["greedy", policy, greedySettings(options.seed), false]);
            phases.push(["MCTS+PPM", policy, mctsSettings(options), true]);
            for (const [method, backend, settings, useReward] of phases) {
                options.onPhase?.(`${split}: ${method}`);
                const dir = join(options.out, `${split}-${method.toLowerCase().replace(/[^a-z]+/g, "-")}`);
                const summary: RunSummary = await runSearch({
                    dir,
                    resume: false,
                    datasetPath: path,
                    problems,
                    settings,
                    preset: null,
                    services: { policy: backend, executor: sandbox, judge: grader, ...(useReward ? { rewardModel: ppm } : {}) },
                    concurrency: useReward ? 2 : 4,
                    versions: options.versions,
                    ...(options.signal ? { signal: options.signal } : {}),
                    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
                });
                rows.push({ split, method, accuracy: summary.accuracy, secondsPerProblem: summary.durationMs / 1000 / Math.max(1, summary.finished - summary.resumed), problems: summary.finished, dir });
                if (summary.aborted) return rows;
            }
        }
        return rows;
    } finally {
        await Promise.allSettled([policy.dispose(), ppm.dispose?.(), sandbox.dispose(), grader.dispose()]);
    }
}
