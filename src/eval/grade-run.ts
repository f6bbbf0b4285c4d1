import { existsSync } from "node:fs";
import { join } from "node:path";
import { RstarError } from "../errors/index.js";
import { RunStore, runPaths } from "../runs/index.js";
import type { AnswerJudge } from "../search/index.js";
import { choose, problemVerdicts, type GradedProblem, type GradedTerminal } from "./metrics.js";

/** One step of a chosen trajectory, for people to read. */
export interface TrajectoryStep {
    tag: string;
    kind: string;
    text: string;
    code: string | null;
    observation: string | null;
}

/** One problem of an evaluation, graded after selection (a line of problems.jsonl). */
export interface EvalProblemRecord {
    index: number;
    question: string;
    gold: string | string[] | null;
    /** Difficulty where the dataset has one: MATH's `level`, the synthetic domain's `steps`/`difficulty`. */
    level: string | null;
    selected_answer: string | null;
    selected_value: number | null;
    correct: boolean;
    top_value_correct: boolean;
    majority_correct: boolean;
    weighted_correct: boolean;
    /** Oracle. */
    pass_at_k: boolean;
    terminals: { answer: string; value: number; correct: boolean; group: number; tag: string }[];
    /** Distinct answers with their votes and value sums. */
    votes: { answer: string; votes: number; value_sum: number; correct: boolean }[];
    tokens: number;
    requests: number;
    seconds: number;
    error: string | null;
    trajectory: TrajectoryStep[];
}

interface StoredResult {
    index: number;
    question: string;
    answer: string | string[] | null;
    selected_answer: string | null;
    selected_value: number | null;
    terminal_answers: { answer: string; value: number; tag: string }[];
    prompt_tokens?: number;
    completion_tokens?: number;
    requests?: number;
    duration_ms?: number;
    error: null | { message?: string };
}

/** Where a record says how hard it is: `level` (MATH), else `steps` or `difficulty` (synthetic problems). */
export function levelOf(record: Record<string, unknown> | undefined): string | null {
    if (record === undefined) return null;
    for (const key of ["level", "steps", "difficulty"]) {
        const value = record[key];
        if (typeof value === "string" && value.trim() !== "") return value.trim();
        if (typeof value === "number" && Number.isFinite(value)) return `${key === "steps" ? "steps " : ""}${value}`;
    }
    return null;
}

/**
 * Reads a run's finished problems from its SQLite store and grades them against `golds` (position → gold): terminal
 * answers are grouped by the grader's equivalence, then each group is compared with the gold answer. This happens
 * after the search chose its answer, so selection never saw the gold answer.
 */
export async function gradeRun(
    dir: string,
    golds: ReadonlyMap<number, string | string[] | null>,
    judge: AnswerJudge,
    options: { voteTopK?: number; selection?: "value" | "majority" | "weighted"; records?: ReadonlyMap<number, Record<string, unknown>> } = {},
): Promise<{ records: EvalProblemRecord[]; graded: GradedProblem[] }> {
    const paths = runPaths(dir);
    if (!existsSync(paths.store)) throw new RstarError("FILE_NOT_FOUND", `${dir} is not a run directory (no ${join(dir, "store.sqlite")})`);
    const store = new RunStore(paths.store, { readOnly: true });
    let stored: { position: number; result: Record<string, unknown>; tree: Record<string, unknown> }[];
    try {
        stored = [...store.all()].sort((a, b) => a.position - b.position);
    } finally {
        store.close();
    }
    const records: EvalProblemRecord[] = [];
    const graded: GradedProblem[] = [];
    for (const { position, result: raw, tree } of stored) {
        const result = raw as unknown as StoredResult;
        const gold = golds.has(position) ? (golds.get(position) ?? null) : result.answer;
        if (gold === null || (Array.isArray(gold) && gold.length === 0)) continue;
        // Canonical order (by tag), so ties and subsamples do not depend on which trajectory finished first.
        const terminals = [...(result.terminal_answers ?? [])].sort((a, b) => compareTags(a.tag, b.tag));
        const representatives: string[] = [];
        const groupCorrect: boolean[] = [];
        const gradedTerminals: GradedTerminal[] = [];
        for (const terminal of terminals) {
            let group = representatives.indexOf(terminal.answer);
            if (group < 0) {
                for (const [candidate, representative] of representatives.entries()) {
                    if (await judge.equal(representative, terminal.answer)) {
                        group = candidate;
                        break;
                    }
                }
            }
            if (group < 0) {
                group = representatives.length;
                representatives.push(terminal.answer);
                groupCorrect.push(terminal.answer.trim() !== "" && (await judge.equal(gold, terminal.answer)));
            }
            gradedTerminals.push({ value: terminal.value, correct: groupCorrect[group] as boolean, group });
        }
        // The method's answer, chosen again from the values alone (no gold) in canonical order: the search's own choice
        // breaks ties by finishing order, which concurrency makes vary.
        const chosen = result.error === null ? choose(gradedTerminals, gradedTerminals.map((_, i) => i), options.selection ?? "value", options.voteTopK ?? 0) : -1;
        const selected = chosen >= 0 ? (terminals[chosen] as { answer: string }).answer : null;
        const selectedValue = chosen >= 0 ? (terminals[chosen] as { value: number }).value : null;
        const selectedCorrect = chosen >= 0 && (gradedTerminals[chosen] as GradedTerminal).correct;
        const problem: GradedProblem = { terminals: gradedTerminals, selectedCorrect };
        const verdicts = problemVerdicts(problem, options.voteTopK ?? 0);
        graded.push(problem);
        const votes = representatives.map((answer, group) => ({ answer, votes: 0, value_sum: 0, correct: groupCorrect[group] as boolean }));
        for (const terminal of gradedTerminals) {
            const entry = votes[terminal.group] as (typeof votes)[number];
            entry.votes += 1;
            entry.value_sum += terminal.value;
        }
        votes.sort((a, b) => b.votes - a.votes || b.value_sum - a.value_sum);
        const selectedTag = chosen >= 0 ? (terminals[chosen] as { tag: string }).tag : null;
        records.push({
            index: result.index,
            question: result.question,
            gold,
            level: levelOf(options.records?.get(position) ?? (tree as Record<string, unknown>)),
            selected_answer: selected,
            selected_value: selectedValue,
            correct: selectedCorrect,
            top_value_correct: verdicts.topValue,
            majority_correct: verdicts.majority,
            weighted_correct: verdicts.weighted,
            pass_at_k: verdicts.passAtK,
            terminals: terminals.map((terminal, i) => ({ ...terminal, correct: (gradedTerminals[i] as GradedTerminal).correct, group: (gradedTerminals[i] as GradedTerminal).group })),
            votes,
            tokens: (result.prompt_tokens ?? 0) + (result.completion_tokens ?? 0),
            requests: result.requests ?? 0,
            seconds: (result.duration_ms ?? 0) / 1000,
            error: result.error === null ? null : (result.error.message ?? "failed"),
            trajectory: selectedTag === null ? [] : trajectoryOf(tree["rstar"], selectedTag),
        });
    }
    return { records, graded };
}

/** "0.2.10" after "0.2.9": tags compared segment by segment as numbers. */
export function compareTags(a: string, b: string): number {
    const x = a.split(".");
    const y = b.split(".");
    for (let i = 0; i < Math.min(x.length, y.length); i += 1) {
        const d = Number(x[i]) - Number(y[i]);
        if (d !== 0) return d;
    }
    return x.length - y.length;
}

/** The steps from the root to `tag` in an official-format tree (tag → state). */
export function trajectoryOf(states: unknown, tag: string): TrajectoryStep[] {
    if (typeof states !== "object" || states === null) return [];
    const map = states as Record<string, { text?: string; kind?: string; action_input?: string; observation?: string }>;
    const parts = tag.split(".");
    const steps: TrajectoryStep[] = [];
    for (let depth = 2; depth <= parts.length; depth += 1) {
        const here = parts.slice(0, depth).join(".");
        const state = map[here];
        if (state === undefined) continue;
        const code = state.action_input !== undefined && state.action_input !== "" ? state.action_input : null;
        steps.push({ tag: here, kind: state.kind ?? "", text: state.text ?? "", code, observation: code === null ? null : (state.observation ?? "") });
    }
    return steps;
}
