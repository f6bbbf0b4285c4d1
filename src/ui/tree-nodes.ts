import { compareTags } from "../eval/index.js";
import type { TreeNode } from "./api-types.js";

const num = (value: unknown, fallback = 0) => (typeof value === "number" && Number.isFinite(value) ? value : fallback);
const str = (value: unknown) => (typeof value === "string" ? value : "");

/**
 * The official state map as a list of nodes, parents before children (tags compared as numbers: "0.10" after "0.9").
 * A tag whose parent is missing hangs from the nearest ancestor present (the root at worst), so every node shows.
 */
export function treeNodes(states: unknown): TreeNode[] {
    if (typeof states !== "object" || states === null || Array.isArray(states)) return [];
    const map = states as Record<string, Record<string, unknown> | undefined>;
    const tags = Object.keys(map).filter((tag) => /^\d+(\.\d+)*$/.test(tag)).sort(compareTags);
    const present = new Set(tags);
    const nodes: TreeNode[] = [];
    for (const tag of tags) {
        const state = map[tag] ?? {};
        const parts = tag.split(".");
        let parent: string | null = null;
        for (let cut = parts.length - 1; cut >= 1; cut -= 1) {
            const candidate = parts.slice(0, cut).join(".");
            if (present.has(candidate)) {
                parent = candidate;
                break;
            }
        }
        if (parent === null && nodes.length > 0) parent = (nodes[0] as TreeNode).tag;
        const action = str(state["action_input"]);
        const code = action !== "" ? action : null;
        const finalAnswer = str(state["final_answer"]);
        const reason = state["terminal_reason"];
        nodes.push({
            tag,
            parent,
            depth: parts.length - 1,
            kind: str(state["kind"]) || (parent === null ? "root" : code !== null ? "code" : "step"),
            text: str(state["text"]),
            code,
            observation: code === null ? null : str(state["observation"]),
            q: num(state["q_value"]),
            visits: num(state["visit_count"]),
            value: num(state["value"]),
            ppm: typeof state["reward_score"] === "number" ? state["reward_score"] : null,
            terminal_reason: typeof reason === "string" ? reason : null,
            final_answer: finalAnswer === "" ? null : finalAnswer,
            correct: typeof state["correct"] === "boolean" ? state["correct"] : null,
        });
    }
    return nodes;
}
