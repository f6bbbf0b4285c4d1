import { OFFICIAL_FAILURE_TEXT, breadthFirst, type SearchNode } from "./tree.js";

/**
 * One node in the official rStar tree format (`MCTS.return_states`), plus a few fields of ours after the official ones
 * (official readers ignore them).
 */
export interface OfficialNodeState {
    text: string;
    extra_info: string;
    action: string;
    action_input: string;
    observation?: string;
    final_answer: string;
    value: number;
    q_value: number;
    visit_count: number;
    // ours:
    kind: string;
    terminal_reason: string | null;
    correct: boolean | null;
    reward_score: number | null;
}

/** The tree as the official format's node-tag → state map, in breadth-first order (root "0", then "0.1", ...). */
export function toOfficialStates(root: SearchNode, question: string): Record<string, OfficialNodeState> {
    const states: Record<string, OfficialNodeState> = {};
    for (const node of breadthFirst(root)) {
        const isCode = node.kind === "code" || node.kind === "last-code";
        const state: OfficialNodeState = {
            text: node.text,
            extra_info: node.parent === null ? `question: ${question}` : "",
            action: isCode ? "python_interpreter" : "",
            action_input: isCode ? node.stepText : "",
            final_answer: finalAnswerText(node),
            value: node.value ?? 0,
            q_value: node.q,
            visit_count: node.visits,
            kind: node.kind,
            terminal_reason: node.terminalReason,
            correct: node.correct,
            reward_score: node.rewardScore,
        };
        if (isCode) state.observation = node.observation ?? "";
        states[node.tag] = state;
    }
    return states;
}

function finalAnswerText(node: SearchNode): string {
    switch (node.terminalReason) {
        case "answer":
            return node.finalAnswer ?? "";
        case "invalid-step":
        case "too-many-errors":
        case "too-deep":
            return OFFICIAL_FAILURE_TEXT[node.terminalReason];
        default:
            return "";
    }
}
