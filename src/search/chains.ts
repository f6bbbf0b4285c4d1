import type { ProblemSearch } from "./context.js";
import { evaluateChildren } from "./evaluate.js";
import { sampleChildren } from "./expand.js";
import type { SearchNode } from "./tree.js";

/**
 * Greedy decoding: one chain of single-candidate steps from the root until a terminal (official sft_eval_greedy:
 * MCTS with one iteration and one candidate at temperature 0).
 */
export async function runGreedy(search: ProblemSearch): Promise<void> {
    await extendChain(search, search.root, 0);
    search.counters.rollouts = 1;
    search.emit({ type: "rollout-end", problem: search.problem.index, rollout: 0 });
}

/**
 * Best-of-N: N candidates for the first step in one request (kept even when identical: every sample counts), then each
 * sample continues on its own with one candidate per step. The answer is chosen by the reward model's score of each
 * full solution or by a vote (settings.answerSelection).
 */
export async function runBestOfN(search: ProblemSearch): Promise<void> {
    const firstSteps = await sampleChildren(search, search.root, { n: search.settings.samples, officialFilter: false });
    await evaluateChildren(search, firstSteps);
    await Promise.all(
        firstSteps.map(async (node, chain) => {
            if (!node.terminal) await extendChain(search, node, chain + 1);
            search.emit({ type: "rollout-end", problem: search.problem.index, rollout: chain });
        }),
    );
    search.counters.rollouts = firstSteps.length;
}

async function extendChain(search: ProblemSearch, start: SearchNode, salt: number): Promise<void> {
    let node = start;
    while (!node.terminal) {
        const [child] = await sampleChildren(search, node, { n: 1, officialFilter: true, salt });
        if (child === undefined) {
            node.markTerminal("dead-end");
            return;
        }
        await evaluateChildren(search, [child]);
        node = child;
    }
}
