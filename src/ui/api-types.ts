/**
 * The JSON shapes of the viewer's API (docs/ui.md), shared by the server and the page (no imports: the page's
 * bundle takes these types only).
 */

/** One node of a search tree as the viewer's API gives it (from the official tag → state map in trees.jsonl / the store). */
export interface TreeNode {
    tag: string;
    /** The parent's tag; null for the root. */
    parent: string | null;
    depth: number;
    kind: string;
    /** The step as it appears in the trajectory (with its output block, if any). */
    text: string;
    /** The program this step ran (code steps), else null. */
    code: string | null;
    /** What the program printed (code steps), else null. */
    observation: string | null;
    q: number;
    visits: number;
    /** The first value the node was updated with (official `value`). */
    value: number;
    /** The reward model's (PPM's) score of the partial solution ending here; null when none was asked. */
    ppm: number | null;
    terminal_reason: string | null;
    final_answer: string | null;
    correct: boolean | null;
}

/** Live counts of a run, as the run list and the event stream give them. */
export interface RunProgress {
    /** Problems finished (search, eval) or rounds with a report (evolve). */
    done: number;
    /** Problems in the run's dataset slice, or rounds planned (evolve); null when unknown. */
    total: number | null;
    failed: number;
    /** Whether eval.json exists (eval), every problem is done (search), or report.json covers every round (evolve). */
    finished: boolean;
    /** Last change of the run's files (ms since the epoch). */
    updatedAt: number;
}

/** One row of the problem table. */
export interface ProblemRow {
    index: number;
    question: string;
    gold: string | string[] | null;
    level: string | null;
    selected_answer: string | null;
    selected_value: number | null;
    /** Graded after selection; null while the gold answer is unknown (an eval run before its grading). */
    correct: boolean | null;
    /** Some trajectory correct (oracle); null when ungraded. */
    pass_any: boolean | null;
    majority_correct: boolean | null;
    weighted_correct: boolean | null;
    /** Finished trajectories (terminal answers). */
    trajectories: number;
    votes: { answer: string; votes: number; correct: boolean | null }[];
    rollouts: number | null;
    nodes: number | null;
    tokens: number;
    seconds: number;
    error: string | null;
}

export interface ProblemTree {
    index: number;
    question: string;
    gold: string | string[] | null;
    selected_answer: string | null;
    selected_tag: string | null;
    correct: boolean | null;
    nodes: TreeNode[];
}

/** A run as the run list and the event stream describe it. */
export interface RunListEntry {
    id: string;
    kind: "search" | "eval" | "evolve";
    path: string;
    parent: string | null;
    progress: RunProgress;
}

