import { z } from "zod";
import { isPlainObject } from "../util/index.js";

/**
 * A search tree read back from a tree record (official rStar format: `{question, answer, rstar: {tag: state}}`),
 * rebuilt the way the official `eval_output.rebuild_tree` does for training-data extraction.
 */

/** The official prompt around a question (`extra_*_file.py`, `train_SFT.py` PROMPT_DICT). */
export const USER_TAG = "<|user|>:\n";
export const ASSISTANT_OPENING = "<|assistant|>: Let's think step by step and solve the problem with code.";

export function officialPrompt(question: string): string {
    return `${USER_TAG}${question}\n${ASSISTANT_OPENING}`;
}

/** Official `final_answer` strings of failed leaves (rstar_deepthink/constants.py). */
export const NO_VALID_CHILD = "Fail to generate parsable text for next step.";
export const TOO_MANY_STEPS = "Fail to sove the problem within limited steps.";
export const TOO_MANY_CODE_ERRORS = "Too many consecutive steps have code errors.";
const FAILURES = new Set([NO_VALID_CHILD, TOO_MANY_STEPS, TOO_MANY_CODE_ERRORS]);

/**
 * Children the official extraction looks for under each node: `rebuild_tree(max_num_children=b1*b2)` with b1=64,
 * b2=16, i.e. tags `{tag}.0` … `{tag}.1023`.
 */
export const OFFICIAL_MAX_CHILDREN = 64 * 16;

export interface TreeNode {
    readonly tag: string;
    /** Position in breadth-first order (root 0). */
    readonly index: number;
    readonly parent: TreeNode | null;
    readonly children: TreeNode[];
    readonly text: string;
    readonly extraInfo: string;
    readonly finalAnswer: string;
    readonly q: number;
}

export interface ExtractionTree {
    /** The question as the official scripts take it: the root's `extra_info` after "question: ". */
    question: string;
    /** The record's `answer`; null when it has none. */
    gold: string | string[] | null;
    root: TreeNode;
    /** Every node reached from the root, breadth first. */
    nodes: TreeNode[];
    /** States in `rstar` that the rebuild does not reach (orphans, tags that are not `{parent}.{0..1023}`). */
    ignoredNodes: number;
}

export type TreeReadResult =
    | { kind: "tree"; tree: ExtractionTree }
    /** A record whose `rstar` is null: a problem whose search failed (our runs record such problems). */
    | { kind: "empty" }
    | { kind: "malformed"; message: string };

/** What the official `InferNode` reads from a state, with its defaults for missing fields. */
const stateSchema = z.object({
    text: z.string().default(""),
    extra_info: z.string().default(""),
    final_answer: z.string().default(""),
    q_value: z.number().default(0),
});

const goldSchema = z.union([z.string(), z.number(), z.array(z.union([z.string(), z.number()])).min(1), z.null()]).optional();
const CANONICAL_INDEX = /^(0|[1-9][0-9]*)$/;

/** Validates one parsed tree record and rebuilds its tree; never throws on bad data. */
export function readTreeRecord(value: unknown): TreeReadResult {
    if (!isPlainObject(value)) return { kind: "malformed", message: "a tree record must be a JSON object" };
    const states = value["rstar"];
    if (states === null) return { kind: "empty" };
    if (states === undefined) return { kind: "malformed", message: 'field "rstar" is missing (not a tree record?)' };
    if (!isPlainObject(states)) return { kind: "malformed", message: 'field "rstar" must be an object of node states by tag' };
    const goldParsed = goldSchema.safeParse(value["answer"]);
    if (!goldParsed.success) return { kind: "malformed", message: 'field "answer" must be a string, a number or a list of them' };
    const raw = goldParsed.data;
    const gold = raw === undefined || raw === null ? null : Array.isArray(raw) ? raw.map(String) : String(raw);

    const childTags = new Map<string, { index: number; tag: string }[]>();
    let stateCount = 0;
    for (const tag of Object.keys(states)) {
        stateCount += 1;
        const dot = tag.lastIndexOf(".");
        if (dot < 0) continue;
        const index = tag.slice(dot + 1);
        if (!CANONICAL_INDEX.test(index) || Number(index) >= OFFICIAL_MAX_CHILDREN) continue;
        const parent = tag.slice(0, dot);
        let list = childTags.get(parent);
        if (list === undefined) childTags.set(parent, (list = []));
        list.push({ index: Number(index), tag });
    }

    const nodes: TreeNode[] = [];
    const make = (tag: string, parent: TreeNode | null): TreeNode | string => {
        const parsed = stateSchema.safeParse(states[tag]);
        if (!parsed.success) {
            const issue = parsed.error.issues[0];
            const field = issue?.path.join(".");
            return `rstar["${tag}"]${field ? `.${field}` : ""}: ${issue?.code === "invalid_type" && issue.path.length === 0 ? "a node state must be an object" : (issue?.message ?? "invalid")}`;
        }
        const state = parsed.data;
        const node: TreeNode = { tag, index: nodes.length, parent, children: [], text: state.text, extraInfo: state.extra_info, finalAnswer: state.final_answer, q: state.q_value };
        nodes.push(node);
        return node;
    };
    if (!("0" in states)) return { kind: "malformed", message: 'rstar has no root node "0"' };
    const root = make("0", null);
    if (typeof root === "string") return { kind: "malformed", message: root };
    for (let next = 0; next < nodes.length; next += 1) {
        const node = nodes[next] as TreeNode;
        const tags = childTags.get(node.tag);
        if (tags === undefined) continue;
        tags.sort((a, b) => a.index - b.index);
        for (const { tag } of tags) {
            const child = make(tag, node);
            if (typeof child === "string") return { kind: "malformed", message: child };
            node.children.push(child);
        }
    }

    const question = questionOf(root, value);
    if (question === null) return { kind: "malformed", message: 'no question: the root\'s extra_info does not start with "question: " and the record has no "question" string' };
    return { kind: "tree", tree: { question, gold, root, nodes, ignoredNodes: stateCount - nodes.length } };
}

/**
 * The official scripts take the question from the root state (`extra_info[10:]`, i.e. after "question: "). When the
 * root does not carry it that way we fall back to the record's `question` (or `query`) field.
 */
function questionOf(root: TreeNode, record: Record<string, unknown>): string | null {
    if (root.extraInfo.startsWith("question: ")) return root.extraInfo.slice("question: ".length);
    for (const key of ["question", "query"]) {
        const field = record[key];
        if (typeof field === "string") return field;
    }
    return null;
}

/** Official `is_valid_final_answer_node`: a leaf with a final answer that is not one of the failure strings. */
export function isValidFinalAnswer(node: TreeNode): boolean {
    return node.children.length === 0 && node.finalAnswer !== "" && !FAILURES.has(node.finalAnswer);
}

/** Official `prune_node(root)` leaves the root unpruned exactly when some leaf is a valid final answer. */
export function hasValidAnswerLeaf(tree: ExtractionTree): boolean {
    return tree.nodes.some(isValidFinalAnswer);
}

/** Nodes from the root's first child down to `node` (the root is the question, not a step). */
export function stepsTo(node: TreeNode): TreeNode[] {
    const steps: TreeNode[] = [];
    for (let current: TreeNode | null = node; current !== null && current.parent !== null; current = current.parent) steps.push(current);
    return steps.reverse();
}

/** Leaves in the depth-first order of the official `search_all_traces` (children in tag order). */
export function leavesInOrder(root: TreeNode): TreeNode[] {
    const leaves: TreeNode[] = [];
    const stack: TreeNode[] = [root];
    while (stack.length > 0) {
        const node = stack.pop() as TreeNode;
        if (node.children.length === 0) leaves.push(node);
        for (let i = node.children.length - 1; i >= 0; i -= 1) stack.push(node.children[i] as TreeNode);
    }
    return leaves;
}
