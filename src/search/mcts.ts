import type { ProblemSearch } from "./context.js";
import { evaluateChildren } from "./evaluate.js";
import { sampleChildren } from "./expand.js";
import { selectChild } from "./select.js";
import type { SearchNode } from "./tree.js";

/**
 * Monte Carlo Tree Search, faithful to the official rStar solver: each rollout walks down from the root, expanding
 * the first unexpanded node it reaches (one request for n candidates), evaluating the new children, then selecting the
 * best non-terminal child by PUCT, until it reaches a node whose children are all terminal (which becomes terminal).
 *
 * With `parallelRollouts` > 1, several rollouts of the tree are in flight at once; rollouts in flight count as
 * visits valued `-virtualLoss` during selection so they spread out. With 1 (the default) the result equals the
 * sequential algorithm exactly.
 */
export async function runMcts(search: ProblemSearch): Promise<void> {
    const { settings } = search;
    const pending = new Map<SearchNode, Promise<void>>();
    let next = 0;
    const worker = async () => {
        while (next < settings.rollouts && !search.root.terminal) {
            const rollout = next;
            next += 1;
            await runRollout(search, pending);
            search.counters.rollouts += 1;
            search.emit({ type: "rollout-end", problem: search.problem.index, rollout });
        }
    };
    await Promise.all(Array.from({ length: Math.max(1, settings.parallelRollouts) }, worker));
}

async function runRollout(search: ProblemSearch, pending: Map<SearchNode, Promise<void>>): Promise<void> {
    const { settings } = search;
    const virtual = settings.parallelRollouts > 1;
    const path: SearchNode[] = [];
    try {
        let node = search.root;
        for (;;) {
            if (node.terminal) return;
            if (node.children.length === 0) {
                let expansion = pending.get(node);
                if (expansion === undefined) {
                    expansion = expandAndEvaluate(search, node);
                    pending.set(node, expansion);
                }
                try {
                    await expansion;
                } finally {
                    pending.delete(node);
                }
                if (node.children.length === 0) {
                    // The policy returned nothing usable: nothing below this node can ever be searched.
                    node.markTerminal("dead-end");
                    return;
                }
            }
            const child = selectChild(node, settings.cPuct, virtual ? settings.virtualLoss : 0);
            if (child === null) {
                node.markTerminal("dead-end");
                return;
            }
            if (virtual) {
                child.inFlight += 1;
                path.push(child);
            }
            node = child;
        }
    } finally {
        for (const node of path) node.inFlight -= 1;
    }
}

async function expandAndEvaluate(search: ProblemSearch, node: SearchNode): Promise<void> {
    const children = await sampleChildren(search, node, { officialFilter: true });
    await evaluateChildren(search, children);
}
