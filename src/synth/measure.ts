import type { LlmBackend } from "../llm/index.js";
import type { CodeRunner } from "./code-runner.js";
import { answerMatches, rollout, type RolloutOptions } from "./rollout.js";

export interface MeasureOptions {
    /** Samples per problem at `temperature` for pass@k. Defaults to 8. */
    k?: number;
    /** Sampling temperature for pass@k. Defaults to 1. */
    temperature?: number;
    /** Base seed of the samples. Defaults to 0. */
    seed?: number;
    template?: RolloutOptions["template"];
    /** Problems solved at once. Defaults to 4. */
    concurrency?: number;
    signal?: AbortSignal;
    /** Called after each problem. */
    onProblem?: (done: number, total: number) => void;
}

export interface ProblemOutcome {
    question: string;
    answer: string;
    greedyAnswer: string | null;
    greedyCorrect: boolean;
    /** Correct samples out of k. */
    sampleCorrect: number;
}

export interface TeacherMeasurement {
    problems: number;
    /** Share of problems the greedy (temperature 0) solution answers correctly. */
    greedyAccuracy: number;
    k: number;
    /** Share of problems where at least one of k samples is correct. */
    passAtK: number;
    /** Share of all samples that are correct (pass@1 at the sampling temperature). */
    sampleAccuracy: number;
    outcomes: ProblemOutcome[];
}

/** Greedy accuracy and pass@k of a policy on problems with gold answers, through real step-by-step generation. */
export async function measurePolicy(
    problems: readonly { question: string; answer: string }[],
    backend: LlmBackend,
    runner: CodeRunner,
    options: MeasureOptions = {},
): Promise<TeacherMeasurement> {
    const k = options.k ?? 8;
    const base = { ...(options.template === undefined ? {} : { template: options.template }), ...(options.signal === undefined ? {} : { signal: options.signal }) };
    const outcomes: ProblemOutcome[] = new Array(problems.length);
    let next = 0;
    let done = 0;
    const worker = async () => {
        while (next < problems.length) {
            const index = next++;
            const problem = problems[index] as { question: string; answer: string };
            const greedy = await rollout(backend, runner, problem.question, { ...base, temperature: 0 });
            let sampleCorrect = 0;
            for (let sample = 0; sample < k; sample += 1) {
                const sampled = await rollout(backend, runner, problem.question, { ...base, temperature: options.temperature ?? 1, seed: (options.seed ?? 0) * 1_000_003 + index * 1009 + sample });
                if (answerMatches(problem.answer, sampled.answer)) sampleCorrect += 1;
            }
            outcomes[index] = { question: problem.question, answer: problem.answer, greedyAnswer: greedy.answer, greedyCorrect: answerMatches(problem.answer, greedy.answer), sampleCorrect };
            done += 1;
            options.onProblem?.(done, problems.length);
        }
    };
    await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 4) }, worker));
    const count = Math.max(1, problems.length);
    return {
        problems: problems.length,
        greedyAccuracy: outcomes.filter((o) => o.greedyCorrect).length / count,
        k,
        passAtK: outcomes.filter((o) => o.sampleCorrect > 0).length / count,
        sampleAccuracy: outcomes.reduce((sum, o) => sum + o.sampleCorrect, 0) / (count * Math.max(1, k)),
        outcomes,
    };
}
