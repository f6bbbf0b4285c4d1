import { compareNumbers, editDistance, pySorted, pySum } from "./extract-python.js";
import { TOO_MANY_CODE_ERRORS, hasValidAnswerLeaf, isValidFinalAnswer, officialPrompt, stepsTo, type ExtractionTree, type TreeNode } from "./extract-tree.js";

/**
 * Step-level preference pairs for the PPM from one search tree, as the official `extra_rm_file.py` (mode "all")
 * followed by `train/sample_rm_data.py` make them. See docs/extraction.md for the step-by-step correspondence.
 */

/** What a leaf contributes to its ancestors' counts of correct- and wrong-reaching leaves. */
export interface LeafLabel {
    correct: boolean;
    wrong: boolean;
}

/**
 * Official labelling (`extra_rm_file.search_all_traces`): a valid answer leaf, or a leaf whose final answer is the
 * too-many-code-errors failure, counts as correct when its Q is exactly 1; a valid answer leaf counts as wrong when
 * its Q is exactly -1. (Terminal Q is ±1 because MCTS back-propagates the ground-truth reward to them.)
 */
export function officialLeafLabel(node: TreeNode): LeafLabel {
    const candidate = isValidFinalAnswer(node) || node.finalAnswer === TOO_MANY_CODE_ERRORS;
    if (!candidate) return { correct: false, wrong: false };
    if (node.q === 1) return { correct: true, wrong: false };
    return { correct: false, wrong: node.q === -1 && node.finalAnswer !== TOO_MANY_CODE_ERRORS };
}

export interface PpmOptions {
    /** Keep a pair when Q(pos) − Q(neg) ≥ this (official 0.5). */
    minMargin: number;
    /** Keep a pair when the two step texts differ by at least this Levenshtein distance (official 20). */
    minEditDistance: number;
}

export const OFFICIAL_PPM_OPTIONS: PpmOptions = { minMargin: 0.5, minEditDistance: 20 };

export interface PpmPair {
    /** The node whose children are compared: the shared prefix ends here. */
    parent: TreeNode;
    chosen: TreeNode;
    rejected: TreeNode;
    /** Prompt plus the step texts down to `parent` (official `get_prefix`). */
    prefix: string;
    /** Q(chosen) − Q(rejected). */
    margin: number;
    /** Mean Q along the greedy best continuation of `chosen` minus that along the worst continuation of `rejected`. */
    stepsMargin: number;
    /** How many chosen and rejected children were selected at `parent` (official pos_count, neg_count). */
    posCount: number;
    negCount: number;
}

export interface PpmSelection {
    /** Pairs the official `extra_rm_file.py` writes (margin > 0 and a better continuation), before thresholds. */
    candidates: number;
    kept: PpmPair[];
    droppedByMargin: number;
    droppedByEditDistance: number;
}

/**
 * Preference pairs of one tree. `label` says which nodes end a correct or a wrong trajectory (default: the official
 * Q = ±1 rule); it is asked for every node, and should answer "neither" for non-terminal ones.
 */
export function selectPairs(tree: ExtractionTree, options: PpmOptions = OFFICIAL_PPM_OPTIONS, label: (leaf: TreeNode) => LeafLabel = officialLeafLabel): PpmSelection {
    const selection: PpmSelection = { candidates: 0, kept: [], droppedByMargin: 0, droppedByEditDistance: 0 };
    // extra_solution_dict(prune=True): a tree without any valid answer leaf yields nothing.
    if (!hasValidAnswerLeaf(tree)) return selection;

    const correct = new Int32Array(tree.nodes.length);
    const wrong = new Int32Array(tree.nodes.length);
    for (let i = tree.nodes.length - 1; i >= 0; i -= 1) {
        // Reverse breadth-first order visits every child before its parent.
        const node = tree.nodes[i] as TreeNode;
        const own = label(node);
        if (own.correct) correct[i] = 1;
        else if (own.wrong) wrong[i] = 1;
        for (const child of node.children) {
            correct[i] = (correct[i] as number) + (correct[child.index] as number);
            wrong[i] = (wrong[i] as number) + (wrong[child.index] as number);
        }
    }
    const reachesCorrect = (node: TreeNode) => (correct[node.index] as number) > 0;
    const reachesWrong = (node: TreeNode) => (wrong[node.index] as number) > 0;
    const byQ = (a: TreeNode, b: TreeNode) => compareNumbers(a.q, b.q);

    /** Official `build_partial_solution`: follow the best (or worst) child reaching a correct (wrong) answer. */
    const continuationMeanQ = (start: TreeNode, best: boolean): number => {
        const qs: number[] = [];
        let node: TreeNode | undefined = start;
        while (node !== undefined) {
            qs.push(node.q);
            const next: TreeNode[] = node.children.filter(best ? reachesCorrect : reachesWrong);
            if (next.length === 0) break;
            node = pySorted(next, byQ, best)[0];
        }
        return pySum(qs) / qs.length;
    };

    const question = officialPrompt(tree.question);
    const queue: TreeNode[] = [tree.root];
    for (let head = 0; head < queue.length; head += 1) {
        const node = queue[head] as TreeNode;
        const chosenCandidates = pySorted(node.children.filter(reachesCorrect), byQ, true);
        const rejectedCandidates = pySorted(node.children.filter(reachesWrong), byQ);
        let chosen = chosenCandidates.slice(0, 2);
        let rejected = rejectedCandidates.slice(0, 2);
        if (chosen.length === 0 || rejected.length === 0) continue;
        // Widening, in the official order: the second test sees the already widened rejected list.
        if (chosen.length === 1) rejected = rejectedCandidates.slice(0, 4);
        if (rejected.length === 1) chosen = chosenCandidates.slice(0, 4);

        const prefix = question + stepsTo(node).map((step) => step.text).join("");
        for (const good of chosen) {
            for (const bad of rejected) {
                const margin = good.q - bad.q;
                const goodMean = continuationMeanQ(good, true);
                const badMean = continuationMeanQ(bad, false);
                if (!(margin > 0 && goodMean > badMean)) continue;
                const stepsMargin = goodMean - badMean;
                selection.candidates += 1;
                if (margin < options.minMargin) selection.droppedByMargin += 1;
                else if (editDistance(bad.text, good.text) < options.minEditDistance) selection.droppedByEditDistance += 1;
                else selection.kept.push({ parent: node, chosen: good, rejected: bad, prefix, margin, stepsMargin, posCount: chosen.length, negCount: rejected.length });
            }
        }
        for (const child of node.children) if (reachesCorrect(child) && reachesWrong(child)) queue.push(child);
    }
    return selection;
}

/** Official `sample_rm_data.py` record (its key order). */
export interface OfficialPpmRecord {
    prompt: string;
    neg: string;
    pos: string;
    neg_count: number;
    pos_count: number;
}

export function officialPpmRecord(pair: PpmPair): OfficialPpmRecord {
    return { prompt: pair.prefix, neg: pair.rejected.text, pos: pair.chosen.text, neg_count: pair.negCount, pos_count: pair.posCount };
}

/** TRL preference record (RewardTrainer / DPO style, explicit prompt): the prefix, then the chosen and the rejected step. */
export interface TrlPpmRecord {
    prompt: string;
    chosen: string;
    rejected: string;
}

export function trlPpmRecord(pair: PpmPair): TrlPpmRecord {
    return { prompt: pair.prefix, chosen: pair.chosen.text, rejected: pair.rejected.text };
}

/**
 * Which pairs teach the PPM the final-answer step. "official": the sibling pairs alone (`extra_rm_file.py` only
 * compares siblings, and an expansion rarely keeps two answer children). "paper": also `selectFinalAnswerPairs`.
 */
export type FinalAnswerPairs = "official" | "paper";
export const FINAL_ANSWER_PAIRS: readonly FinalAnswerPairs[] = ["official", "paper"];

/** A final-answer pair: two whole trajectories of one tree that end in a correct and a wrong answer. */
export interface FinalAnswerPair {
    /** The question prompt (official `get_prefix` of the root). */
    prompt: string;
    /** The answer leaves; the pair's texts are every step from the root down to them. */
    chosen: TreeNode;
    rejected: TreeNode;
    chosenText: string;
    rejectedText: string;
    /** Mean Q along the chosen and the rejected trajectory. */
    chosenMeanQ: number;
    rejectedMeanQ: number;
    posCount: number;
    negCount: number;
}

/**
 * Final-answer pairs as the rStar-Math paper describes them for the last step (§3.3: "for the final answer step,
 * where identical reasoning trajectories rarely occur, we take the two correct trajectories with the highest average
 * Q-values as positives and the two incorrect ones with the lowest as negatives"). Not in the official scripts,
 * whose expansions keep one answer child, so their step pairs never compare two answers. Each side is the whole
 * trajectory, which is exactly the text the PPM scores for an answer node during search (prompt + every step).
 * Trajectories with the same text are counted once; no margin or edit-distance threshold applies.
 */
export function selectFinalAnswerPairs(tree: ExtractionTree, label: (leaf: TreeNode) => LeafLabel = officialLeafLabel): FinalAnswerPair[] {
    interface Trajectory {
        leaf: TreeNode;
        text: string;
        meanQ: number;
    }
    const correct = new Map<string, Trajectory>();
    const wrong = new Map<string, Trajectory>();
    for (const leaf of tree.nodes) {
        if (!isValidFinalAnswer(leaf)) continue;
        const verdict = label(leaf);
        if (!verdict.correct && !verdict.wrong) continue;
        const steps = stepsTo(leaf);
        const text = steps.map((step) => step.text).join("");
        const meanQ = pySum(steps.map((step) => step.q)) / steps.length;
        const into = verdict.correct ? correct : wrong;
        const seen = into.get(text);
        if (seen === undefined || (verdict.correct ? meanQ > seen.meanQ : meanQ < seen.meanQ)) into.set(text, { leaf, text, meanQ });
    }
    const byMeanQ = (a: Trajectory, b: Trajectory) => compareNumbers(a.meanQ, b.meanQ);
    const chosen = pySorted([...correct.values()], byMeanQ, true).slice(0, 2);
    const rejected = pySorted([...wrong.values()], byMeanQ).slice(0, 2);
    const prompt = officialPrompt(tree.question);
    const pairs: FinalAnswerPair[] = [];
    for (const good of chosen) {
        for (const bad of rejected) {
            pairs.push({
                prompt, chosen: good.leaf, rejected: bad.leaf, chosenText: good.text, rejectedText: bad.text,
                chosenMeanQ: good.meanQ, rejectedMeanQ: bad.meanQ, posCount: chosen.length, negCount: rejected.length,
            });
        }
    }
    return pairs;
}

export function officialFinalAnswerRecord(pair: FinalAnswerPair): OfficialPpmRecord {
    return { prompt: pair.prompt, neg: pair.rejectedText, pos: pair.chosenText, neg_count: pair.negCount, pos_count: pair.posCount };
}

export function trlFinalAnswerRecord(pair: FinalAnswerPair): TrlPpmRecord {
    return { prompt: pair.prompt, chosen: pair.chosenText, rejected: pair.rejectedText };
}
