import type { ProblemSearch } from "./context.js";
import { evaluateChildren } from "./evaluate.js";
import { sampleChildren } from "./expand.js";
import type { SearchNode } from "./tree.js";

/**
 * Greedy decoding: one chain of single-candidate steps from the root until a terminal or `maxDepth` steps (official
 * sft_eval_greedy: MCTS with one iteration and one candidate at temperature 0, so one rollout of at most `max_depth`
 * steps, solver.py:229; with max_depth 2 that is the code block and the answer, never a third step).
 */
export async function runGreedy(search: ProblemSearch): Promise<void> {
    await extendChain(search, search.root, 0, search.settings.maxDepth);
    search.counters.rollouts = 1;
    search.emit({ type: "rollout-end", problem: search.problem.index, rollout: 0 });
}

/**
 * Best-of-N: N candidates for the first step in one request (kept even when identical: every sample counts), then each
 * sample continues on its own with one candidate per step, `maxDepth` steps in all, as greedy. The answer is chosen by
 * the reward model's score of each full solution or by a vote (settings.answerSelection).
 */
export async function runBestOfN(search: ProblemSearch): Promise<void> {
    const firstSteps = await sampleChildren(search, search.root, { n: search.settings.samples, officialFilter: false });
    await evaluateChildren(search, firstSteps);
    await Promise.all(
        firstSteps.map(async (node, chain) => {
            if (!node.terminal) await extendChain(search, node, chain + 1, search.settings.maxDepth - 1);
            search.emit({ type: "rollout-end", problem: search.problem.index, rollout: chain });
        }),
    );
    search.counters.rollouts = firstSteps.length;
}

/** Extends a chain by at most `steps` single-candidate steps; one left open when they run out counts as a budget end. */
async function extendChain(search: ProblemSearch, start: SearchNode, salt: number, steps: number): Promise<void> {
    let node = start;
    for (let step = 0; !node.terminal; step += 1) {
        if (step >= steps) {
            search.counters.stepBudgetEnds += 1;
            return;
        }
        const [child] = await sampleChildren(search, node, { n: 1, officialFilter: true, salt });
        if (child === undefined) {
            node.markTerminal("dead-end");
            return;
        }
        await evaluateChildren(search, [child]);
        node = child;
    }
}
