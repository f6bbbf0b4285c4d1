import type { DatasetProblem } from "../data/index.js";
import { RstarError, describeError } from "../errors/index.js";
import { toOfficialStates, type ProblemOutcome } from "../search/index.js";

/** One line of results.jsonl. Field names are snake_case like the official files; the format is stable. */
export function resultRecord(problem: DatasetProblem, outcome: ProblemOutcome): Record<string, unknown> {
    return {
        index: problem.position,
        question: problem.question,
        answer: problem.answer,
        selected_answer: outcome.selected?.answer ?? null,
        selected_value: outcome.selected?.value ?? null,
        correct: outcome.correct,
        pass_any: outcome.passAny,
        terminal_answers: outcome.terminalAnswers.map((terminal) => ({ answer: terminal.answer, value: terminal.value, correct: terminal.correct, tag: terminal.tag })),
        rollouts: outcome.counters.rollouts,
        nodes: outcome.counters.nodes,
        requests: outcome.counters.requests,
        prompt_tokens: outcome.counters.promptTokens,
        completion_tokens: outcome.counters.completionTokens,
        code_runs: outcome.counters.codeRuns,
        reward_calls: outcome.counters.rewardCalls,
        duration_ms: Math.round(outcome.durationMs),
        error: null,
    };
}

/** A problem that failed on its own (e.g. the server rejected its prompt): recorded so the run goes on. */
export function errorRecord(problem: DatasetProblem, error: unknown): Record<string, unknown> {
    return {
        index: problem.position,
        question: problem.question,
        answer: problem.answer,
        selected_answer: null,
        selected_value: null,
        correct: problem.answer === null ? null : false,
        pass_any: problem.answer === null ? null : false,
        terminal_answers: [],
        error: RstarError.isInstance(error) ? error.toJSON() : { message: describeError(error) },
    };
}

/** One line of trees.jsonl in the official format: the input record's fields plus `rstar` (tag → node state). */
export function treeRecord(problem: DatasetProblem, outcome: ProblemOutcome | null): Record<string, unknown> {
    return { ...problem.record, rstar: outcome === null ? null : toOfficialStates(outcome.root, problem.question) };
}
