import { outputSuffix, sftPrompt } from "../steps/index.js";
import { binary, evaluate, literal, literals, toPython, type Expression, type Operand } from "./expression.js";
import { misreadComment, misreadNumberOutside } from "./misreading.js";
import { planSolution, type PlanStep, type SolutionPlan } from "./plan.js";
import { createRandom, type Random } from "./random.js";
import { readQuestion } from "./read-question.js";
import { answerStepText, codeStepText, printStepText } from "./solution.js";

/**
 * Preference pairs that isolate one skill a reward model needs and tree pairs rarely teach: checking a number against
 * the question. Each pair is the reference solution's step (or whole solution) against the same text with one
 * question number misread as a number that is not in the question, comment and code alike, as the tiny policies
 * misread them. On tree pairs a misreading is one difference among wording, path and second mistakes, and no PPM
 * trained on them learned the check (62-65%); on these pairs the 0.19M backbone does (90% held out). Measured in
 * docs/evolve.md ("Misreadings made on purpose").
 */
/** A preference pair in the official format (`rstar extract ppm` writes the same; synth sits below data, so it is restated here). */
export interface PairRecord {
    prompt: string;
    neg: string;
    pos: string;
    neg_count: number;
    pos_count: number;
}

export interface MisreadPairs {
    /** Next-step pairs: the shared prefix, the right step against the misread one. */
    steps: PairRecord[];
    /** At most one whole-solution pair: the reference solution against one with a misread step, output and answer recomputed. */
    solutions: PairRecord[];
}

export interface MisreadOptions {
    /** Seeds the choices; the same seed and question give the same pairs. */
    seed: number;
    /** Share of misread steps whose comment keeps the right number (a slip in the code alone). Default 0.1. */
    keepComment?: number;
}

const NONE: MisreadPairs = { steps: [], solutions: [] };

/**
 * The misread pairs for one synthetic problem; none when the question is not one the synthetic domain reads, or
 * its reference answer is not `answer` (a record edited by hand). Each side words its comments independently (the
 * reference or the alternative wording, 50/50 per step, as the sampling teacher does), so wording never tells them apart.
 */
export function misreadPairs(question: string, answer: string, options: MisreadOptions): MisreadPairs {
    const story = readQuestion(question);
    if (story === null) return NONE;
    let plan: SolutionPlan;
    try {
        plan = planSolution(story);
    } catch {
        return NONE;
    }
    if (String(plan.answer) !== answer.trim()) return NONE;
    const random = createRandom(`${options.seed}|misreads|${question}`);
    const keepComment = options.keepComment ?? 0.1;
    const inQuestion = new Set((question.match(/\d+/g) ?? []).map(Number));
    const wording = (): string[] => plan.steps.map((step) => (random.chance(0.5) ? step.comment : step.altComment));
    const posComments = wording();
    const negComments = wording();
    const posTexts = plan.steps.map((step, index) => codeStepText(index, step, posComments[index] as string));

    const misreads: { index: number; expression: Expression; text: string }[] = [];
    plan.steps.forEach((step, index) => {
        const expression = misreadOne(step, random, inQuestion);
        if (expression === null) return;
        const comment = random.chance(keepComment) ? (negComments[index] as string) : misreadComment(negComments[index] as string, step.expression, expression);
        misreads.push({ index, expression, text: codeStepText(index, { variable: step.variable, expression }, comment) });
    });
    const prompt = sftPrompt(question);
    const steps = misreads.map(({ index, text }) => record(prompt + posTexts.slice(0, index).join(""), posTexts[index] as string, text));
    if (misreads.length === 0) return { steps, solutions: [] };

    const chosen = random.pick(misreads);
    const misreadValue = finalValue(plan, chosen.index, chosen.expression);
    if (misreadValue === null || misreadValue === plan.answer) return { steps, solutions: [] };
    const tail = (value: number): string => printStepText(toPython(plan.final)) + outputSuffix(String(value)) + answerStepText(plan.answerSentence(String(value)));
    const negTexts = plan.steps.map((step, index) => (index === chosen.index ? chosen.text : codeStepText(index, step, negComments[index] as string)));
    return { steps, solutions: [record(prompt, posTexts.join("") + tail(plan.answer), negTexts.join("") + tail(misreadValue))] };
}

/** The step's expression with one question number (never a 100 that makes a percent) misread; null when it has none. */
function misreadOne(step: PlanStep, random: Random, inQuestion: ReadonlySet<number>): Expression | null {
    const candidates = literals(step.expression)
        .filter((value) => value !== 100)
        .map((value, position) => ({ value, position }))
        .filter(({ value }) => inQuestion.has(value));
    if (candidates.length === 0) return null;
    const { value, position } = random.pick(candidates);
    const misread = misreadNumberOutside(value, random, inQuestion);
    if (misread === null) return null;
    let remaining = position;
    const walk = (operand: Operand): Operand => {
        if (operand.kind === "literal") return operand.value !== 100 && remaining-- === 0 ? literal(misread) : operand;
        if (operand.kind === "variable") return operand;
        return binary(operand.op, walk(operand.left), walk(operand.right));
    };
    return walk(step.expression) as Expression;
}

/** What the solution prints with step `index` computed by `expression`: null when it is not a positive integer (the domain's answers are). */
function finalValue(plan: SolutionPlan, index: number, expression: Expression): number | null {
    const values = new Map<string, number>();
    try {
        plan.steps.forEach((step, i) => values.set(step.variable, evaluate(i === index ? expression : step.expression, values)));
        const value = evaluate(plan.final, values);
        return Number.isInteger(value) && value > 0 ? value : null;
    } catch {
        return null;
    }
}

function record(prompt: string, pos: string, neg: string): PairRecord {
    return { prompt, neg, pos, neg_count: 1, pos_count: 1 };
}

export interface MisreadProblem {
    question: string;
    answer: string;
}

export interface MisreadSplit {
    steps: PairRecord[];
    solutions: PairRecord[];
    /** Problems whose pairs are in this split. */
    problems: number;
}

/**
 * Misread pairs for a dataset, with the first `heldOut` problems that yield any kept apart (problem-disjoint held-out
 * pairs to measure the check on). Problems the domain cannot read are skipped and counted.
 */
export function misreadDataset(problems: readonly MisreadProblem[], options: MisreadOptions & { heldOut?: number }): { train: MisreadSplit; heldOut: MisreadSplit; skipped: number } {
    const train: MisreadSplit = { steps: [], solutions: [], problems: 0 };
    const heldOut: MisreadSplit = { steps: [], solutions: [], problems: 0 };
    let skipped = 0;
    for (const problem of problems) {
        const pairs = misreadPairs(problem.question, problem.answer, options);
        if (pairs.steps.length === 0) {
            skipped += 1;
            continue;
        }
        const split = heldOut.problems < (options.heldOut ?? 0) ? heldOut : train;
        split.steps.push(...pairs.steps);
        split.solutions.push(...pairs.solutions);
        split.problems += 1;
    }
    return { train, heldOut, skipped };
}
