import { join } from "node:path";
import { loadDataset } from "../data/index.js";
import { methodSettings, parseMethod, runEval, type EvalSummary } from "../eval/index.js";
import { createGrader } from "../grading/index.js";
import { LlamaCppBackend, type LlmBackend } from "../llm/index.js";
import { BatchingRewardModel, LlamaCppPpm } from "../reward/index.js";
import type { RunProgress } from "../runs/index.js";
import { createSandbox } from "../sandbox/index.js";
import type { SearchSettings } from "../search/index.js";
import { TeacherBackend } from "../synth/index.js";
import type { ShippedModels } from "./shipped-models.js";

export interface DemoOptions {
    models: ShippedModels;
    /** Where the evaluations go; one directory per split and method. */
    out: string;
    /** Held-out problems per split. */
    problems: number;
    rollouts: number;
    candidates: number;
    /** Trajectories of the majority-vote row (maj@K). */
    samples: number;
    /** llama.cpp threads. */
    threads: number;
    /** Also run the noisy teacher greedily, for comparison. */
    teacher: boolean;
    seed: number;
    /** Problems in flight per row; default 4, or 2 for the rows that also run the PPM. Results do not depend on it. */
    concurrency?: number;
    versions: Record<string, string>;
    signal?: AbortSignal;
    onPhase?: (phase: string) => void;
    onProgress?: (progress: RunProgress) => void;
}

export interface DemoRow {
    split: "test" | "ood";
    /** "teacher greedy", "greedy", "maj@K", "MCTS+PPM". */
    method: string;
    /** The `rstar eval --method` this row is. */
    evalMethod: string;
    accuracy: number;
    ci95: { low: number; high: number };
    passAtK: number;
    secondsPerProblem: number;
    problems: number;
    dir: string;
}

/**
 * The settings of one demo row: exactly those of `rstar eval --method M --seed S` on the shipped models (plus
 * `--rollouts R --candidates C` for MCTS), so every row can be reproduced with `rstar eval`.
 */
export function demoSettings(method: string, options: Pick<DemoOptions, "seed" | "rollouts" | "candidates">): SearchSettings {
    const parsed = parseMethod(method);
    const settings = methodSettings(parsed, true);
    settings.seed = options.seed;
    if (parsed.name === "mcts") Object.assign(settings, { rollouts: options.rollouts, candidates: options.candidates });
    return settings;
}

/**
 * The offline demo, a preset over `rstar eval`: the shipped tiny policy solves held-out synthetic problems greedily,
 * by majority vote over K samples, and with MCTS guided by the shipped PPM (all through llama.cpp), next to the noisy
 * teacher that produced their training data.
 */
export async function runDemo(options: DemoOptions): Promise<DemoRow[]> {
    const policy = new LlamaCppBackend({ modelPath: options.models.policy, model: "rstar-tiny-policy", threads: options.threads, contextSize: 1024 });
    const ppm = new BatchingRewardModel(await LlamaCppPpm.fromDirectory(options.models.ppm, { threads: options.threads, contextSize: 1024 }));
    const sandbox = await createSandbox({ workers: 1 });
    const grader = createGrader();
    const rows: DemoRow[] = [];
    try {
        for (const split of ["test", "ood"] as const) {
            const path = options.models.heldOut[split];
            const problems = (await loadDataset(path)).slice(0, options.problems);
            const phases: [string, string, LlmBackend][] = [];
            if (options.teacher) phases.push(["teacher greedy", "greedy", new TeacherBackend()]);
            phases.push(["greedy", "greedy", policy], [`maj@${options.samples}`, `maj@${options.samples}`, policy], ["MCTS+PPM", "mcts", policy]);
            for (const [label, method, backend] of phases) {
                options.onPhase?.(`${split}: ${label}`);
                const dir = join(options.out, `${split}-${label.toLowerCase().replace(/[^a-z0-9]+/g, "-")}`);
                const settings = demoSettings(method, options);
                const usesReward = method === "mcts";
                const { summary }: { summary: EvalSummary } = await runEval({
                    dir,
                    resume: false,
                    datasetPath: path,
                    problems,
                    settings,
                    method,
                    preset: null,
                    services: { policy: backend, executor: sandbox, judge: grader, ...(usesReward ? { rewardModel: ppm } : {}) },
                    concurrency: options.concurrency ?? (usesReward ? 2 : 4),
                    versions: options.versions,
                    ...(options.signal ? { signal: options.signal } : {}),
                    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
                });
                rows.push({
                    split,
                    method: label,
                    evalMethod: method,
                    accuracy: summary.accuracy,
                    ci95: summary.ci95,
                    passAtK: summary.pass_at_k.accuracy,
                    secondsPerProblem: summary.seconds_per_problem,
                    problems: summary.problems,
                    dir,
                });
                if (summary.interrupted) return rows;
            }
        }
        return rows;
    } finally {
        await Promise.allSettled([policy.dispose(), ppm.dispose?.(), sandbox.dispose(), grader.dispose()]);
    }
}
