import type { SearchNode } from "./tree.js";

/**
 * Official PUCT score: Q + c·sqrt(ln N_parent / N). A child never visited, or whose parent was never visited,
 * scores its Q alone (0 when unvisited). With virtual loss, rollouts in flight count as visits valued `-virtualLoss`.
 */
export function puct(node: SearchNode, cPuct: number, virtualLoss = 0): number {
    const parent = node.parent;
    if (parent === null) return 0;
    const visits = node.visits + node.inFlight;
    const parentVisits = parent.visits + parent.inFlight;
    const q = visits === 0 ? 0 : (node.valueSum - virtualLoss * node.inFlight) / visits;
    const u = parentVisits === 0 || visits === 0 ? 0 : cPuct * Math.sqrt(Math.log(parentVisits) / visits);
    return q + u;
}

/** The non-terminal child with the highest PUCT score; ties go to the first child. Null when all are terminal. */
export function selectChild(node: SearchNode, cPuct: number, virtualLoss = 0): SearchNode | null {
    let best: SearchNode | null = null;
    let bestScore = -Infinity;
    for (const child of node.children) {
        if (child.terminal) continue;
        const score = puct(child, cPuct, virtualLoss);
        if (score > bestScore) {
            best = child;
            bestScore = score;
        }
    }
    return best;
}
