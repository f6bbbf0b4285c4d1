import type { Completion } from "../llm/index.js";
import { Marker, closeCodeStep, outputSuffix, parseStep, programForStep, renderPrompt } from "../steps/index.js";
import type { ProblemSearch } from "./context.js";
import type { SearchNode } from "./tree.js";

export interface SampleOptions {
    /** Completions to request; defaults to settings.candidates. */
    n?: number;
    /**
     * Apply the official post-processing (`llm_generate`): drop candidates whose text repeats an earlier one, and when
     * any candidate reached `<end_of_answer>` keep only the first such. Off for best-of-N, where every sample counts.
     */
    officialFilter?: boolean;
    /** Distinguishes repeated requests at one node (best-of-N chains) in the seed. */
    salt?: number;
}

/**
 * Expansion: one request for n candidate steps at `node`, then one child per surviving candidate, each parsed and,
 * for code steps, executed (all children's programs run concurrently in the sandbox pool).
 * Children get tags in candidate order, so the tree does not depend on execution timing.
 */
export async function sampleChildren(search: ProblemSearch, node: SearchNode, options: SampleOptions = {}): Promise<SearchNode[]> {
    const { settings, services, problem } = search;
    const n = options.n ?? settings.candidates;
    const prompt = (services.formatPrompt ?? renderPrompt)(settings.prompt, problem.question, node.partialSolution());
    search.counters.requests += 1;
    search.emit({ type: "request-start", problem: problem.index });
    const result = await services.policy.generate({
        prompt,
        n,
        temperature: settings.temperature,
        topP: settings.topP,
        maxTokens: settings.maxTokens,
        stop: settings.stop,
        seed: search.seedFor(node, options.salt ?? 0),
        ...(search.signal ? { signal: search.signal } : {}),
    });
    search.emit({ type: "request-end", problem: problem.index, completions: result.completions.length });
    if (result.usage) {
        search.counters.promptTokens += result.usage.promptTokens;
        search.counters.completionTokens += result.usage.completionTokens;
    }
    const completions = options.officialFilter === false ? result.completions : officialFilter(result.completions);
    const parentTexts = node.pathTexts();
    const children = completions.map(() => node.addChild());
    search.counters.nodes += children.length;
    await Promise.all(children.map((child, index) => buildChild(search, child, completions[index] as Completion, parentTexts)));
    for (const child of children) search.emit({ type: "node-created", problem: problem.index, tag: child.tag, terminal: child.terminal });
    return children;
}

/** Official `llm_generate` post-processing: dedupe by text, then keep only the first answer-ending candidate if any. */
export function officialFilter(completions: readonly Completion[]): Completion[] {
    const seen = new Set<string>();
    const unique = completions.filter((completion) => {
        if (seen.has(completion.text)) return false;
        seen.add(completion.text);
        return true;
    });
    const answer = unique.find((completion) => completion.stop === Marker.answerEnd);
    return answer === undefined ? unique : [answer];
}

async function buildChild(search: ProblemSearch, child: SearchNode, completion: Completion, parentTexts: readonly string[]): Promise<void> {
    const { settings } = search;
    const step = parseStep(completion);
    child.kind = step.kind;
    child.text = step.text;
    child.stepText = step.text;
    const parent = child.parent as SearchNode;
    switch (step.kind) {
        case "malformed":
            child.failure = step.message;
            child.markTerminal("invalid-step");
            break;
        case "answer":
            child.finalAnswer = step.answer;
            child.markTerminal("answer");
            search.answerNodes.push(child);
            break;
        case "code":
        case "last-code": {
            const program = programForStep(parentTexts, step.text);
            search.counters.codeRuns += 1;
            const execution = await search.services.executor.run(program, { timeoutMs: settings.codeTimeoutMs });
            const observation = execution.observation.trim();
            child.code = program;
            child.observation = observation;
            child.codeOk = execution.ok;
            if (step.kind === "last-code") child.text = step.text + outputSuffix(observation);
            if (!execution.ok) {
                child.consecutiveErrors = parent.consecutiveErrors + 1;
                if (child.consecutiveErrors >= settings.errorThreshold) {
                    child.text = closeCodeStep(step.text, observation);
                    child.failure = observation;
                    child.markTerminal("too-many-errors");
                }
            }
            break;
        }
    }
    if (!child.terminal && child.depth > settings.maxDepth) child.markTerminal("too-deep");
}
