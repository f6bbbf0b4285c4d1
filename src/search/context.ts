import type { LlmBackend } from "../llm/index.js";
import type { RewardModel } from "../reward/index.js";
import type { PromptFormatter } from "../steps/index.js";
import type { SearchSettings } from "./settings.js";
import { SearchNode } from "./tree.js";

/** Runs one program in the sandbox. The sandbox pool satisfies this; tests may pass a fake. */
export interface StepExecutor {
    run(code: string, options?: { timeoutMs?: number }): Promise<{ ok: boolean; observation: string }>;
}

/** Decides whether a predicted answer equals the gold one(s). The grader satisfies this. */
export interface AnswerJudge {
    equal(gold: string | readonly string[], pred: string): Promise<boolean>;
}

export interface SearchServices {
    policy: LlmBackend;
    executor: StepExecutor;
    judge: AnswerJudge;
    rewardModel?: RewardModel | undefined;
    /** How prompts are written; default `renderPrompt`. A local instruct model's chat template plugs in here (`chatPromptFormatter`). */
    formatPrompt?: PromptFormatter | undefined;
}

export interface SearchProblem {
    /** Position in the dataset; part of every request seed. */
    index: number;
    question: string;
    /** Gold answer(s); null when unknown (then nothing is graded). */
    gold: string | readonly string[] | null;
}

export interface SearchCounters {
    requests: number;
    promptTokens: number;
    completionTokens: number;
    codeRuns: number;
    rewardCalls: number;
    nodes: number;
    rollouts: number;
    /** Rollouts (or chains) that used up their `maxDepth` steps before reaching a terminal, as the official loop ends them. */
    stepBudgetEnds: number;
}

/** What a search reports while it works; a progress display or a live tree viewer listens to these. */
export type SearchEvent =
    | { type: "request-start"; problem: number }
    | { type: "request-end"; problem: number; completions: number }
    | { type: "node-created"; problem: number; tag: string; terminal: boolean }
    | { type: "rollout-end"; problem: number; rollout: number };

/** The state of one problem's search: its tree, settings, services and counters. */
export class ProblemSearch {
    readonly root = new SearchNode(null, "0");
    readonly counters: SearchCounters = { requests: 0, promptTokens: 0, completionTokens: 0, codeRuns: 0, rewardCalls: 0, nodes: 1, rollouts: 0, stepBudgetEnds: 0 };
    /** Answer terminals in creation order (ties in answer selection go to the earliest). */
    readonly answerNodes: SearchNode[] = [];

    constructor(
        readonly problem: SearchProblem,
        readonly settings: SearchSettings,
        readonly services: SearchServices,
        readonly signal: AbortSignal | undefined,
        readonly onEvent: ((event: SearchEvent) => void) | undefined,
    ) {}

    /**
     * A request seed that depends only on the run seed, the problem and the node (plus a salt for repeated requests
     * at one node), never on scheduling order: a resumed or reordered run sends the same seeds.
     */
    seedFor(node: SearchNode, salt = 0): number {
        return fnv1a(`${this.settings.seed}:${this.problem.index}:${node.tag}:${salt}`) & 0x7fffffff;
    }

    emit(event: SearchEvent): void {
        this.onEvent?.(event);
    }
}

function fnv1a(text: string): number {
    let hash = 0x811c9dc5;
    for (let index = 0; index < text.length; index += 1) {
        hash ^= text.charCodeAt(index);
        hash = Math.imul(hash, 0x01000193) >>> 0;
    }
    return hash >>> 0;
}
