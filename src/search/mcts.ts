import type { ProblemSearch } from "./context.js";
import { evaluateChildren } from "./evaluate.js";
import { sampleChildren } from "./expand.js";
import { selectChild } from "./select.js";
import type { SearchNode } from "./tree.js";

/**
 * Monte Carlo Tree Search, faithful to the official rStar solver: each rollout starts at the root, and when the root
 * already has children it first selects one of them (official `select_next_step(from_root=True)`). Then it takes at
 * most `maxDepth` steps (official `for step in range(max_depth)`, solver.py:229); a step expands the current node when
 * it has no children (one request for n candidates, then evaluation of the new children) and selects the best
 * non-terminal child by PUCT. A node whose children are all terminal becomes terminal and ends the rollout; a rollout
 * that uses up its steps ends where it stands (counted in `counters.stepBudgetEnds`).
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
    /** One level down by PUCT; null (and the node closed) when every child is terminal. */
    const descend = (node: SearchNode): SearchNode | null => {
        const child = selectChild(node, settings.cPuct, virtual ? settings.virtualLoss : 0);
        if (child === null) {
            node.markTerminal("dead-end");
            return null;
        }
        if (virtual) {
            child.inFlight += 1;
            path.push(child);
        }
        return child;
    };
    try {
        let node: SearchNode | null = search.root;
        await pending.get(node);
        // The official rollout begins with a selection from an expanded root, outside its step budget.
        if (node.children.length > 0) node = descend(node);
        for (let step = 0; node !== null; step += 1) {
            if (node.terminal) return;
            if (step >= settings.maxDepth) {
                search.counters.stepBudgetEnds += 1;
                return;
            }
            await expanded(search, node, pending);
            if (node.children.length === 0) {
                // The policy returned nothing usable: nothing below this node can ever be searched.
                node.markTerminal("dead-end");
                return;
            }
            node = descend(node);
        }
    } finally {
        for (const node of path) node.inFlight -= 1;
    }
}

/** Expands `node` unless it has children; a rollout that finds another one expanding it waits for that expansion. */
async function expanded(search: ProblemSearch, node: SearchNode, pending: Map<SearchNode, Promise<void>>): Promise<void> {
    let expansion = pending.get(node);
    if (expansion === undefined) {
        if (node.children.length > 0) return;
        expansion = expandAndEvaluate(search, node).finally(() => pending.delete(node));
        pending.set(node, expansion);
    }
    await expansion;
}

async function expandAndEvaluate(search: ProblemSearch, node: SearchNode): Promise<void> {
    const children = await sampleChildren(search, node, { officialFilter: true });
    await evaluateChildren(search, children);
}
