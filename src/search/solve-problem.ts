import { runBeamSearch } from "./beam.js";
import { runBestOfN, runGreedy } from "./chains.js";
import { ProblemSearch, type SearchCounters, type SearchEvent, type SearchProblem, type SearchServices } from "./context.js";
import { runMcts } from "./mcts.js";
import { selectAnswer, type TerminalAnswer } from "./answer-selection.js";
import type { SearchSettings } from "./settings.js";
import { validateSettings } from "./settings-schema.js";
import { RstarError } from "../errors/index.js";
import type { SearchNode } from "./tree.js";

export interface ProblemOutcome {
    problem: SearchProblem;
    root: SearchNode;
    terminalAnswers: TerminalAnswer[];
    selected: TerminalAnswer | null;
    /** Whether the selected answer equals the gold answer; null without gold. */
    correct: boolean | null;
    /**
     * Whether the selection saw the gold answer: with `terminalReward: "ground-truth"` every answer's value is the
     * grader's ±1 against it, so the selected answer is a correct one whenever any is, and `correct` equals `passAny`.
     * Accuracy is only meaningful where this is false.
     */
    selectionSawGold: boolean;
    /** Whether any terminal answer equals the gold answer (pass@any); null without gold. */
    passAny: boolean | null;
    counters: SearchCounters;
    durationMs: number;
}

export interface SolveOptions {
    signal?: AbortSignal;
    onEvent?: (event: SearchEvent) => void;
}

/** Searches one problem with the configured algorithm and chooses its answer. The library's main entry point. */
export async function solveProblem(
    problem: SearchProblem,
    settings: SearchSettings,
    services: SearchServices,
    options: SolveOptions = {},
): Promise<ProblemOutcome> {
    checkSettings(settings, services);
    const started = performance.now();
    const search = new ProblemSearch(problem, settings, services, options.signal, options.onEvent);
    switch (settings.algorithm) {
        case "mcts":
            await runMcts(search);
            break;
        case "beam":
            await runBeamSearch(search);
            break;
        case "best-of-n":
            await runBestOfN(search);
            break;
        case "greedy":
            await runGreedy(search);
            break;
    }
    const terminalAnswers: TerminalAnswer[] = search.answerNodes.map((node) => ({
        answer: node.finalAnswer ?? "",
        value: node.value ?? 0,
        correct: node.correct,
        tag: node.tag,
    }));
    const selected = await selectAnswer(terminalAnswers, settings.answerSelection, settings.voteTopK, services.judge);
    const hasGold = problem.gold !== null;
    let correct: boolean | null = null;
    if (hasGold) correct = selected === null ? false : (selected.correct ?? (await services.judge.equal(problem.gold as string, selected.answer)));
    return {
        problem,
        root: search.root,
        terminalAnswers,
        selected,
        correct,
        selectionSawGold: hasGold && settings.terminalReward === "ground-truth",
        passAny: hasGold ? terminalAnswers.some((answer) => answer.correct === true) : null,
        counters: search.counters,
        durationMs: performance.now() - started,
    };
}

/** Fails before any request when the settings cannot work with the services given. */
export function checkSettings(settings: SearchSettings, services: Pick<SearchServices, "rewardModel">): void {
    validateSettings(settings);
    const needsRewardModel =
        settings.terminalReward === "reward-model" || settings.leafValue || settings.algorithm === "beam";
    if (needsRewardModel && services.rewardModel === undefined) {
        const why = settings.algorithm === "beam" ? "beam search ranks steps by" : settings.leafValue ? "leaf values come from" : "terminal rewards come from";
        throw new RstarError(
            "CONFIG_INVALID",
            `${why} a reward model, and none was given (use --no-leaf-value and --terminal-reward ground-truth|none to search without one)`,
        );
    }
}
