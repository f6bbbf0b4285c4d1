import { compareNumbers, pyStrip, pySum } from "./extract-python.js";
import { ASSISTANT_OPENING, USER_TAG, isValidFinalAnswer, leavesInOrder, officialPrompt, stepsTo, type ExtractionTree, type TreeNode } from "./extract-tree.js";

/**
 * Policy SFT data from one search tree, as the official `extra_sft_file.py` followed by `train/sample_sft_data.py`
 * (with `--n`) select it. See docs/extraction.md for the step-by-step correspondence.
 */

export interface SftTrajectory {
    /** The answer leaf the trajectory ends in. */
    leaf: TreeNode;
    /** Steps from the root's first child to the leaf. */
    steps: TreeNode[];
    /** Concatenated step texts (official `sft_full`). */
    text: string;
    /** Mean and minimum Q over the steps (official `avg`, `min`; 0 and 1 for a trajectory without steps). */
    meanQ: number;
    minQ: number;
}

export interface SftSelection {
    /** Correct trajectories, in the official order (depth first, children by tag). */
    correct: SftTrajectory[];
    /** The top `perProblem` by (mean Q, min Q), minus those whose text contains "error" — in rank order. */
    kept: SftTrajectory[];
    /** Trajectories among the top `perProblem` dropped because their text contains "error" (any case). */
    droppedForError: number;
}

/** The leaves that end in a final answer (the only ones whose correctness is asked), depth-first order. */
export function sftAnswerLeaves(tree: ExtractionTree): TreeNode[] {
    return leavesInOrder(tree.root).filter(isValidFinalAnswer);
}

/**
 * Ranks the correct root-to-answer trajectories of one tree and keeps the top `perProblem`.
 * `isCorrect` says whether an answer leaf's final answer equals the gold answer (the caller grades).
 *
 * Official order of operations, kept here: sort by (avg, min) descending with a stable sort (equal keys keep the
 * depth-first order), cut to n, and only then drop responses containing "error" — so a problem can yield fewer than
 * n records even when more correct trajectories exist.
 */
export function selectSft(tree: ExtractionTree, isCorrect: (leaf: TreeNode) => boolean, perProblem: number): SftSelection {
    const correct = correctTrajectories(tree, isCorrect);
    const pool = new SftPool<SftTrajectory>(perProblem);
    for (const trajectory of correct) pool.add(trajectory);
    const ranked = pool.top();
    const kept = ranked.filter((trajectory) => !containsError(trajectory.text));
    return { correct, kept, droppedForError: ranked.length - kept.length };
}

/** The correct root-to-answer trajectories of a tree, in the official depth-first order. */
export function correctTrajectories(tree: ExtractionTree, isCorrect: (leaf: TreeNode) => boolean): SftTrajectory[] {
    const correct: SftTrajectory[] = [];
    for (const leaf of sftAnswerLeaves(tree)) {
        if (!isCorrect(leaf)) continue;
        const steps = stepsTo(leaf);
        const qs = steps.map((step) => step.q);
        correct.push({
            leaf,
            steps,
            text: steps.map((step) => step.text).join(""),
            meanQ: qs.length > 0 ? pySum(qs) / qs.length : 0,
            minQ: qs.length > 0 ? Math.min(...qs) : 1,
        });
    }
    return correct;
}

/** The official response filter: any "error" in the trajectory text, in any case. */
export function containsError(text: string): boolean {
    return text.toLowerCase().includes("error");
}

/**
 * The top n of a stream of ranked items, exactly as Python's stable `sorted(key=(avg, min), reverse=True)[:n]` over
 * the whole stream would keep them: an item goes after every kept item whose key is not smaller (ties keep arrival
 * order). Memory is O(n), so trajectories of one question can be pooled across tree records.
 */
export class SftPool<T extends { meanQ: number; minQ: number }> {
    private readonly items: T[] = [];

    constructor(private readonly size: number) {}

    add(item: T): void {
        let at = this.items.length;
        while (at > 0 && rankAbove(item, this.items[at - 1] as T)) at -= 1;
        if (at >= this.size) return;
        this.items.splice(at, 0, item);
        if (this.items.length > this.size) this.items.pop();
    }

    /** The kept items, best first. */
    top(): T[] {
        return [...this.items];
    }
}

/** Whether `a` sorts strictly before `b` by (mean Q, min Q) descending. */
function rankAbove(a: { meanQ: number; minQ: number }, b: { meanQ: number; minQ: number }): boolean {
    return (compareNumbers(a.meanQ, b.meanQ) || compareNumbers(a.minQ, b.minQ)) > 0;
}

/** Official `sample_sft_data.py` record: `query` is the question, `response` the steps. */
export interface OfficialSftRecord {
    query: string;
    response: string;
}

export function officialSftRecord(question: string, trajectory: SftTrajectory): OfficialSftRecord {
    return {
        query: question.split(USER_TAG).join(""),
        response: pyStrip(trajectory.text.split(ASSISTANT_OPENING).join("")),
    };
}

/**
 * TRL prompt–completion record: the exact text the official `train_SFT.py` trains on, split where its loss starts
 * (prompt = PROMPT_DICT["prompt_input"] around the query; completion = the response; the trainer appends EOS).
 */
export interface TrlSftRecord {
    prompt: string;
    completion: string;
}

export function trlSftRecord(record: OfficialSftRecord): TrlSftRecord {
    return { prompt: officialPrompt(record.query), completion: record.response };
}
