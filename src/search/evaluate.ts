import { RstarError } from "../errors/index.js";
import { backpropagate } from "./backpropagate.js";
import type { ProblemSearch } from "./context.js";
import type { SearchNode } from "./tree.js";

/**
 * Evaluation of new children, as the official `eval_final_answer` + `select_next_step` do:
 * - failed terminals (invalid step, too many errors, too deep) get the negative reward on themselves only;
 * - answer terminals: with `terminalReward: "ground-truth"` the grader's ±1 is back-propagated to the root;
 *   with "reward-model" the reward model's score of the whole solution is; with "none", 0 is;
 * - with `leafValue`, every new non-terminal child gets the reward model's score as its first value
 *   (official `update_leaf_value`), without back-propagation.
 * Gold answers are graded whenever known, so results report correctness even when the reward came from a model.
 *
 * When the reward model returns no value for a child (a missing or non-finite score), the official MCTS
 * (`select_next_step`, mcts.py:183-185) takes the negative reward as its value and marks the node terminal: an answer
 * gets -1 back-propagated, any other child is updated with -1 and closed (`"no-value"`), so no rollout builds on a
 * step that could not be valued. Beam search (`missingValue: "zero"`) ranks such a step at 0 and keeps it, as the
 * official `BS.select_next_step` does (beam_search.py:122).
 */
export async function evaluateChildren(
    search: ProblemSearch,
    children: readonly SearchNode[],
    options: { missingValue?: "terminal" | "zero" } = {},
): Promise<void> {
    const { settings, services, problem } = search;
    await Promise.all(
        children.map(async (child) => {
            if (child.terminalReason === "answer" && problem.gold !== null && child.finalAnswer !== null) {
                child.correct = await services.judge.equal(problem.gold, child.finalAnswer);
            }
        }),
    );

    const toScore = children.filter(
        (child) => (child.terminalReason === "answer" && settings.terminalReward === "reward-model") || (!child.terminal && settings.leafValue),
    );
    const scores = await scoreNodes(search, toScore);

    for (const child of children) {
        if (child.terminal && child.terminalReason !== "answer") {
            child.update(settings.negativeReward);
        } else if (child.terminalReason === "answer") {
            backpropagate(child, terminalValue(search, child, scores.get(child) ?? (options.missingValue === "zero" ? 0 : undefined)));
        } else if (scores.has(child)) {
            child.update(scores.get(child) as number);
        } else if (toScore.includes(child) && options.missingValue !== "zero") {
            child.update(settings.negativeReward);
            child.markTerminal("no-value");
        }
    }
}

function terminalValue(search: ProblemSearch, node: SearchNode, score: number | undefined): number {
    const { settings } = search;
    switch (settings.terminalReward) {
        case "ground-truth":
            return node.correct ? settings.positiveReward : settings.negativeReward;
        case "reward-model":
            return score ?? settings.negativeReward;
        case "none":
            return 0;
    }
}

/** Scores nodes with the reward model in one batch; records each score on its node. A node left without a value (the
 * model returned too few scores, or a non-finite one) is absent from the map and keeps `rewardScore` null. */
export async function scoreNodes(search: ProblemSearch, nodes: readonly SearchNode[]): Promise<Map<SearchNode, number>> {
    const scores = new Map<SearchNode, number>();
    if (nodes.length === 0) return scores;
    const model = search.services.rewardModel;
    if (model === undefined) {
        throw new RstarError("CONFIG_INVALID", "these search settings need a reward model (leaf values or reward-model terminal rewards), and none was given");
    }
    search.counters.rewardCalls += 1;
    const values = await model.score(
        nodes.map((node) => ({ question: search.problem.question, partialSolution: node.partialSolution() })),
        search.signal ? { signal: search.signal } : {},
    );
    nodes.forEach((node, index) => {
        const value = values[index];
        if (typeof value !== "number" || !Number.isFinite(value)) return;
        node.rewardScore = value;
        scores.set(node, value);
    });
    return scores;
}
