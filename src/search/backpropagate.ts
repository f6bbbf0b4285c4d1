import type { SearchNode } from "./tree.js";

/** Official `update_recursive`: add the value to the node and every ancestor up to the root. */
export function backpropagate(node: SearchNode, value: number): void {
    for (let current: SearchNode | null = node; current !== null; current = current.parent) current.update(value);
}
