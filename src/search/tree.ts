/**
 * The search tree. Nodes follow the official rStar `MCTSNode` semantics so trees export to the official format:
 * `value` is the first value a node was updated with, `q` = value sum / visits, tags are "0", "0.1", "0.1.2", ...
 */

/** Why a node ends a trajectory. "answer" is the only one that carries a final answer. */
export type TerminalReason =
    | "answer"
    | "invalid-step" // official NO_VALID_CHILD: the completion did not parse as a step
    | "too-many-errors" // official TOO_MANY_CODE_ERRORS
    | "too-deep" // official TOO_MANY_STEPS
    | "dead-end" // every child is terminal (official marks such a node terminal during selection)
    | "no-value"; // the reward model returned no value for it (official marks it terminal, mcts.py:183-185)

/** The official `final_answer` strings for failed terminals, kept verbatim for tree compatibility. */
export const OFFICIAL_FAILURE_TEXT: Record<Exclude<TerminalReason, "answer" | "dead-end" | "no-value">, string> = {
    "invalid-step": "Fail to generate parsable text for next step.",
    "too-many-errors": "Too many consecutive steps have code errors.",
    "too-deep": "Fail to sove the problem within limited steps.",
};

export type StepKind = "root" | "code" | "last-code" | "answer" | "malformed";

export class SearchNode {
    readonly tag: string;
    readonly parent: SearchNode | null;
    readonly depth: number;
    readonly children: SearchNode[] = [];
    /** The step text as it appears in the trajectory (completion + stop string, plus an output block if any). */
    text = "";
    kind: StepKind = "root";
    /** The completion plus its stop string, before any output block was appended (official `action_input`). */
    stepText = "";
    /** Why a failed terminal failed, in words (parse problem, last error). */
    failure: string | null = null;
    /** Program executed for this step, and what it printed (code steps only). */
    code: string | null = null;
    observation: string | null = null;
    codeOk: boolean | null = null;
    /** The extracted final answer (answer terminals only). */
    finalAnswer: string | null = null;
    /** Grader verdict for answer terminals when a gold answer is known. */
    correct: boolean | null = null;
    terminal = false;
    terminalReason: TerminalReason | null = null;
    consecutiveErrors = 0;
    /** Value from the reward model for this node's partial solution, when one was asked. */
    rewardScore: number | null = null;

    /** First value the node was updated with (official `value`), null until then. */
    value: number | null = null;
    visits = 0;
    valueSum = 0;
    /** Rollouts currently passing through this node (virtual loss); 0 when rollouts run one at a time. */
    inFlight = 0;

    constructor(parent: SearchNode | null, tag: string) {
        this.parent = parent;
        this.tag = tag;
        this.depth = parent === null ? 0 : parent.depth + 1;
    }

    get q(): number {
        return this.visits === 0 ? 0 : this.valueSum / this.visits;
    }

    addChild(): SearchNode {
        const child = new SearchNode(this, `${this.tag}.${this.children.length + 1}`);
        this.children.push(child);
        return child;
    }

    /** Official `MCTSNode.update`: record a value on this node only. */
    update(value: number): void {
        if (this.value === null) this.value = value;
        this.visits += 1;
        this.valueSum += value;
    }

    /** Texts of the steps from the root's first child down to this node. */
    pathTexts(): string[] {
        const texts: string[] = [];
        for (let node: SearchNode | null = this; node !== null; node = node.parent) if (node.text) texts.push(node.text);
        return texts.reverse();
    }

    /** The partial solution as the policy sees it after the prompt. */
    partialSolution(): string {
        return this.pathTexts().join("");
    }

    markTerminal(reason: TerminalReason): void {
        this.terminal = true;
        this.terminalReason = reason;
    }
}

/** Every node, breadth first (the order of the official `return_states`). */
export function* breadthFirst(root: SearchNode): Generator<SearchNode> {
    const queue: SearchNode[] = [root];
    for (let index = 0; index < queue.length; index += 1) {
        const node = queue[index] as SearchNode;
        yield node;
        queue.push(...node.children);
    }
}

/** Terminal nodes that carry a final answer. */
export function answerNodes(root: SearchNode): SearchNode[] {
    const nodes: SearchNode[] = [];
    for (const node of breadthFirst(root)) if (node.terminalReason === "answer") nodes.push(node);
    return nodes;
}
