import type { DatasetProblem } from "../data/index.js";
import { RstarError, describeError } from "../errors/index.js";
import { toOfficialStates, type ProblemOutcome, type SearchSettings } from "../search/index.js";

/**
 * One line of results.jsonl. Field names are snake_case like the official files; the format is stable (fields are only
 * added). `selection_saw_gold` (added later; records without it are read by the run's terminal reward, see
 * `selectionSawGold`) says whether the selected answer was chosen with the gold answer's help (ground-truth terminal
 * reward): then `correct` equals `pass_any` and is no accuracy.
 */
export function resultRecord(problem: DatasetProblem, outcome: ProblemOutcome): Record<string, unknown> {
    return {
        index: problem.position,
        question: problem.question,
        answer: problem.answer,
        selected_answer: outcome.selected?.answer ?? null,
        selected_value: outcome.selected?.value ?? null,
        correct: outcome.correct,
        selection_saw_gold: outcome.selectionSawGold,
        pass_any: outcome.passAny,
        terminal_answers: outcome.terminalAnswers.map((terminal) => ({ answer: terminal.answer, value: terminal.value, correct: terminal.correct, tag: terminal.tag })),
        rollouts: outcome.counters.rollouts,
        nodes: outcome.counters.nodes,
        requests: outcome.counters.requests,
        prompt_tokens: outcome.counters.promptTokens,
        completion_tokens: outcome.counters.completionTokens,
        code_runs: outcome.counters.codeRuns,
        reward_calls: outcome.counters.rewardCalls,
        step_budget_ends: outcome.counters.stepBudgetEnds,
        duration_ms: Math.round(outcome.durationMs),
        error: null,
    };
}

/** A problem that failed on its own (e.g. the server rejected its prompt): recorded so the run goes on. */
export function errorRecord(problem: DatasetProblem, error: unknown, settings: Pick<SearchSettings, "terminalReward">): Record<string, unknown> {
    return {
        index: problem.position,
        question: problem.question,
        answer: problem.answer,
        selected_answer: null,
        selected_value: null,
        correct: problem.answer === null ? null : false,
        selection_saw_gold: problem.answer !== null && settings.terminalReward === "ground-truth",
        pass_any: problem.answer === null ? null : false,
        terminal_answers: [],
        error: RstarError.isInstance(error) ? error.toJSON() : { message: describeError(error) },
    };
}

/** One line of trees.jsonl in the official format: the input record's fields plus `rstar` (tag → node state). */
export function treeRecord(problem: DatasetProblem, outcome: ProblemOutcome | null): Record<string, unknown> {
    return { ...problem.record, rstar: outcome === null ? null : toOfficialStates(outcome.root, problem.question) };
}

/**
 * Whether a results.jsonl record's answer was selected with the gold answer's help. Records written before the
 * `selection_saw_gold` field existed are judged by the run's terminal reward (`settings` from its config.json).
 */
export function selectionSawGold(result: Record<string, unknown>, settings: Pick<SearchSettings, "terminalReward">): boolean {
    const field = result["selection_saw_gold"];
    if (typeof field === "boolean") return field;
    return result["answer"] !== null && result["answer"] !== undefined && settings.terminalReward === "ground-truth";
}
