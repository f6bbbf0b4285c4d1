import { equalFast } from "../grading/index.js";
import type { LlmBackend } from "../llm/index.js";
import { BOOTSTRAP_STOPS, STEP_STOPS, outputSuffix, parseStep, programForStep, renderPrompt } from "../steps/index.js";
import type { CodeRunner } from "./code-runner.js";
import { hashString } from "./random.js";

export interface RolloutOptions {
    /** Prompt template. Defaults to "sft". */
    template?: "sft" | "bootstrap";
    temperature: number;
    /** Seed of the first request; later requests derive theirs from it. */
    seed?: number;
    /** Defaults to 256. @unit tokens */
    maxTokens?: number;
    /** Most steps before giving up. Defaults to 16 (as search's maxDepth). */
    maxDepth?: number;
    /** Consecutive failing code steps that end the rollout, as search's errorThreshold. Defaults to 1. */
    errorThreshold?: number;
    /** Per-program limit. Defaults to 10000. @unit ms */
    codeTimeoutMs?: number;
    signal?: AbortSignal;
}

export interface RolloutResult {
    /** The partial solution as built: steps, the output block after the last code step, the answer. */
    trajectory: string;
    /** The boxed answer, or null when the rollout ended without one. */
    answer: string | null;
    outcome: "answer" | "malformed" | "code-error" | "too-deep";
    /** Steps generated (code, print and answer steps). */
    steps: number;
}

/**
 * One solution generated the way search builds a path, one step per request: render the prompt with the partial
 * solution, generate one completion, parse it with `parseStep`, run code steps (`programForStep`), append the output
 * block after the last code step, and stop at an answer.
 */
export async function rollout(backend: LlmBackend, runner: CodeRunner, question: string, options: RolloutOptions): Promise<RolloutResult> {
    const template = options.template ?? "sft";
    const stop = template === "sft" ? STEP_STOPS : BOOTSTRAP_STOPS;
    const texts: string[] = [];
    let errors = 0;
    const result = (outcome: RolloutResult["outcome"], answer: string | null = null): RolloutResult => ({ trajectory: texts.join(""), answer, outcome, steps: texts.length });
    for (let depth = 0; depth < (options.maxDepth ?? 16); depth += 1) {
        const prompt = renderPrompt(template, question, texts.join(""));
        const generated = await backend.generate({
            prompt,
            n: 1,
            temperature: options.temperature,
            topP: 1,
            maxTokens: options.maxTokens ?? 256,
            stop,
            ...(options.seed === undefined ? {} : { seed: hashString(`${options.seed}|${depth}`) & 0x7fffffff }),
            ...(options.signal === undefined ? {} : { signal: options.signal }),
        });
        const completion = generated.completions[0];
        if (completion === undefined) return result("malformed");
        const step = parseStep(completion);
        switch (step.kind) {
            case "malformed":
                texts.push(step.text);
                return result("malformed");
            case "answer":
                texts.push(step.text);
                return result("answer", step.answer);
            case "code":
            case "last-code": {
                const execution = await runner.run(programForStep(texts, step.text), options.codeTimeoutMs === undefined ? {} : { timeoutMs: options.codeTimeoutMs });
                const observation = execution.observation.trim();
                texts.push(step.kind === "last-code" ? step.text + outputSuffix(observation) : step.text);
                errors = execution.ok ? 0 : errors + 1;
                if (errors >= (options.errorThreshold ?? 1)) return result("code-error");
                break;
            }
        }
    }
    return result("too-deep");
}

/** Whether a predicted answer equals the gold integer answer (the grader's fast path; no CAS needed). */
export function answerMatches(gold: string, predicted: string | null): boolean {
    if (predicted === null) return false;
    return equalFast(gold, predicted) === true;
}
