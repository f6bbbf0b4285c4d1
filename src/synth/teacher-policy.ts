import { Marker } from "../steps/index.js";
import { binary, literal, literals, toPython, variable, variablesOf, type Expression, type Operand, type Operator } from "./expression.js";
import { planSolution, type PlanStep, type SolutionPlan } from "./plan.js";
import { readPrompt } from "./prompt-reader.js";
import { createRandom, type Random } from "./random.js";
import { misreadComment, misreadNumber } from "./misreading.js";
import { readQuestion } from "./read-question.js";
import { answerStepText, codeStepText, printStepText } from "./solution.js";

/**
 * Per-step probabilities of each kind of mistake, at any temperature. At most one mistake is made per step; the
 * kinds are tried in the order listed here. Greedy decoding (temperature 0) makes the same mistakes every time for a
 * given problem and position; sampling draws them per (seed, sample index, prompt).
 */
export interface TeacherErrorRates {
    /** An operand is misread: another number, as the tiny policies misread them (see misreadNumber). */
    wrongNumber: number;
    /** The operator is wrong (+ for -, * for +, ...). */
    wrongOperator: number;
    /** The step reads a variable that is not defined (a misspelling, or a later step's name): NameError. */
    codeError: number;
    /** The next fact is skipped (its steps are left out and later steps use the value from before it). */
    skipFact: number;
    /** A number from an irrelevant sentence replaces the right one (falls back to wrongNumber without distractors). */
    distractor: number;
    /** The solution stops early and prints an intermediate value as the final answer. */
    prematureAnswer: number;
    /**
     * The fact just finished is applied once more, its variable reassigned (`x = x + 60` after `x = y + 60`): the tiny
     * policies' "one step too many". Default 0, so the default teacher's mistakes stay as they were measured.
     */
    repeatFact: number;
}

export type TeacherErrorKind = keyof TeacherErrorRates;

/** In draw order; a kind added later goes last, so the earlier kinds' draws (and every default trajectory) stay the same. */
export const TEACHER_ERROR_KINDS: readonly TeacherErrorKind[] = ["wrongNumber", "wrongOperator", "codeError", "skipFact", "distractor", "prematureAnswer", "repeatFact"];

/** The defaults: about one step in seven goes wrong, so long problems usually fail greedily but sampling finds paths. */
export const DEFAULT_TEACHER_ERROR_RATES: Readonly<TeacherErrorRates> = {
    wrongNumber: 0.04,
    wrongOperator: 0.025,
    codeError: 0.025,
    skipFact: 0.025,
    distractor: 0.02,
    prematureAnswer: 0.02,
    repeatFact: 0,
};

/** Each kind's command-line flag (`rstar teacher serve|eval --repeat-fact P`), for the CLI and the commands that start it. */
export const TEACHER_ERROR_FLAGS: Readonly<Record<TeacherErrorKind, string>> = {
    wrongNumber: "wrong-number",
    wrongOperator: "wrong-operator",
    codeError: "code-error",
    skipFact: "skip-fact",
    distractor: "distractor",
    prematureAnswer: "premature-answer",
    repeatFact: "repeat-fact",
};

/** `rates` over the defaults, every kind times `scale` (`--error-scale`); not validated (see resolveErrorRates). */
export function scaleErrorRates(rates: Partial<Record<TeacherErrorKind, number | undefined>>, scale = 1): TeacherErrorRates {
    return Object.fromEntries(TEACHER_ERROR_KINDS.map((kind) => [kind, (rates[kind] ?? DEFAULT_TEACHER_ERROR_RATES[kind]) * scale])) as unknown as TeacherErrorRates;
}

/** Error rates merged over the defaults; throws RangeError unless each is in [0, 1] and they sum to at most 1. */
export function resolveErrorRates(rates: Partial<TeacherErrorRates> = {}): TeacherErrorRates {
    const resolved = { ...DEFAULT_TEACHER_ERROR_RATES, ...rates };
    for (const kind of TEACHER_ERROR_KINDS) {
        const rate = resolved[kind];
        if (!(rate >= 0 && rate <= 1)) throw new RangeError(`error rate ${kind} must be in [0, 1], got ${rate}`);
    }
    const total = TEACHER_ERROR_KINDS.reduce((sum, kind) => sum + resolved[kind], 0);
    if (total > 1 + 1e-9) throw new RangeError(`error rates must sum to at most 1, got ${total}`);
    return resolved;
}

export interface TeacherSample {
    /** Sampling seed; undefined picks one at random (not reproducible). Ignored at temperature 0. */
    seed: number | undefined;
    /** Index of the sample among the call's n. Ignored at temperature 0. */
    index: number;
    temperature: number;
}

/** What the teacher wrote and why. */
export interface TeacherStep {
    /** The raw step with its end marker, as a model would emit it; "" when the solution is complete (end-of-sequence). */
    text: string;
    /** Where in the solution the step is. */
    position: "code" | "print" | "answer" | "done" | "unreadable";
    /** The mistake made in this step, if any. */
    error: TeacherErrorKind | null;
}

const UNREADABLE = `${Marker.code}\n# Step 1: I cannot read this question\nprint(0)\n${Marker.codeEnd}`;

const plans = new Map<string, SolutionPlan | null>();

/** The plan for a question, cached (the teacher is asked about the same question many times during search). */
function planFor(question: string): SolutionPlan | null {
    if (plans.has(question)) return plans.get(question) ?? null;
    const story = readQuestion(question);
    let plan: SolutionPlan | null = null;
    try {
        plan = story === null ? null : planSolution(story);
    } catch {
        plan = null;
    }
    if (plans.size >= 2048) plans.delete(plans.keys().next().value as string);
    plans.set(question, plan);
    return plan;
}

/**
 * The teacher's next step for an rStar prompt (SFT or bootstrap template): it reads the question, works out from the
 * partial solution which steps are done, and writes the next one — making a mistake at the configured rates.
 */
export function proposeStep(prompt: string, sample: TeacherSample, rates: TeacherErrorRates): TeacherStep {
    const read = readPrompt(prompt);
    if (read === null) return { text: UNREADABLE, position: "unreadable", error: null };
    const { question, partial } = read;
    if (partial.includes(Marker.answerEnd)) return { text: "", position: "done", error: null };
    const plan = planFor(question);
    if (plan === null) return { text: partial.includes(Marker.codeEnd) ? answerStepText("I could not solve it, so I guess \\boxed{0}.") : UNREADABLE, position: "unreadable", error: null };
    if (partial.includes(Marker.codeEnd)) return { text: answerStep(plan, partial), position: "answer", error: null };

    const defined = definedNames(partial);
    let position = 0;
    plan.steps.forEach((step, index) => {
        if (defined.has(step.variable)) position = index + 1;
    });
    const opens = !partial.includes(Marker.code);
    const stepIndex = (partial.match(/^# Step \d+/gm) ?? []).length;
    const greedy = sample.temperature === 0;
    const random = createRandom(greedy ? `greedy|${question}|${position}` : `${sample.seed ?? Math.random()}|${sample.index}|${prompt}`);
    const resolve = resolver(plan, defined);

    if (position >= plan.steps.length) return { text: printStepText(toPython(resolve(plan.final)), opens), position: "print", error: null };

    const u = random.next();
    let error: TeacherErrorKind | null = null;
    let cumulative = 0;
    for (const kind of TEACHER_ERROR_KINDS) {
        cumulative += rates[kind];
        if (u < cumulative) {
            error = kind;
            break;
        }
    }
    const comment = (step: PlanStep) => (greedy || random.chance(0.5) ? step.comment : step.altComment);
    const write = (step: PlanStep, expression: Expression, madeError: TeacherErrorKind | null): TeacherStep => ({
        text: codeStepText(stepIndex, { variable: step.variable, expression }, misreadComment(comment(step), resolve(step.expression) as Expression, expression), opens),
        position: "code",
        error: madeError,
    });
    const step = plan.steps[position] as PlanStep;
    const expression = resolve(step.expression) as Expression;

    switch (error) {
        case "prematureAnswer": {
            if (position === 0) break;
            const last = plan.steps[position - 1] as PlanStep;
            return { text: printStepText(toPython(resolve(variable(last.variable))), opens), position: "print", error };
        }
        case "repeatFact": {
            if (position === 0) break;
            const last = plan.steps[position - 1] as PlanStep;
            if (last.fact < 0 || last.fact === step.fact) break;
            const again = replaceOperand(resolve(last.expression), resolve(carriedValue(last, plan)), variable(last.variable));
            if (again === null) break;
            return write(last, again as Expression, error);
        }
        case "skipFact": {
            if (step.fact < 0) break;
            let next = position;
            while (next < plan.steps.length && plan.steps[next]?.fact === step.fact) next += 1;
            const skipped = new Set(plan.steps.slice(position, next).map((s) => s.variable));
            const resolveSkipping = resolver(plan, defined, skipped);
            const following = plan.steps[next];
            if (following === undefined) return { text: printStepText(toPython(resolveSkipping(plan.final)), opens), position: "print", error };
            return write(following, resolveSkipping(following.expression) as Expression, error);
        }
        case "distractor": {
            if (plan.distractorNumbers.length > 0 && literals(expression).some((n) => n !== 100)) {
                return write(step, replaceLiteral(expression, random, () => random.pick(plan.distractorNumbers)), error);
            }
            return wrongNumber(step, expression, random, write, error);
        }
        case "wrongNumber":
            return wrongNumber(step, expression, random, write, error);
        case "wrongOperator":
            return write(step, { ...expression, op: swapOperator(expression.op) }, error);
        case "codeError": {
            const names = variablesOf(expression);
            const later = plan.steps[position + 1]?.variable;
            if (names.length > 0) {
                const target = random.pick(names);
                return write(step, renameVariable(expression, target, misspell(target)) as Expression, error);
            }
            const undefinedName = later ?? misspell(step.variable);
            return write(step, replaceLiteral(expression, random, () => 0, undefinedName), error);
        }
        case null:
            break;
    }
    return write(step, expression, null);
}

function wrongNumber(
    step: PlanStep,
    expression: Expression,
    random: Random,
    write: (step: PlanStep, expression: Expression, error: TeacherErrorKind | null) => TeacherStep,
    kind: TeacherErrorKind,
): TeacherStep {
    if (literals(expression).some((n) => n !== 100)) return write(step, replaceLiteral(expression, random, (n) => misreadNumber(n, random)), kind);
    return write(step, { ...expression, op: swapOperator(expression.op) }, "wrongOperator");
}

function swapOperator(op: Operator): Operator {
    const swaps: Record<Operator, Operator> = { "+": "-", "-": "+", "*": "+", "//": "*", "%": "//" };
    return swaps[op];
}

/** A plausible typo: the singular of a plural word, else a dropped last letter. */
function misspell(name: string): string {
    const singular = name.replace(/s(?=(_|$))/, "");
    return singular !== name ? singular : name.slice(0, -1) || `${name}_value`;
}

/** Replaces one literal (never a 100 that turns a percent into a fraction) with `value(old)`, or with a variable. */
function replaceLiteral(expression: Expression, random: Random, value: (old: number) => number, name?: string): Expression {
    const count = literals(expression).filter((n) => n !== 100).length;
    if (count === 0) return expression;
    let target = random.int(0, count - 1);
    const walk = (operand: Operand): Operand => {
        if (operand.kind === "literal") {
            if (operand.value === 100) return operand;
            if (target-- === 0) return name === undefined ? literal(value(operand.value)) : variable(name);
            return operand;
        }
        if (operand.kind === "variable") return operand;
        return binary(operand.op, walk(operand.left), walk(operand.right));
    };
    return walk(expression) as Expression;
}

/** `operand` with its first sub-operand equal to `target` (as Python text) replaced; null when there is none. */
function replaceOperand(operand: Operand, target: Operand, replacement: Operand): Operand | null {
    if (toPython(operand) === toPython(target)) return replacement;
    if (operand.kind !== "binary") return null;
    const left = replaceOperand(operand.left, target, replacement);
    if (left !== null) return binary(operand.op, left, operand.right);
    const right = replaceOperand(operand.right, target, replacement);
    return right === null ? null : binary(operand.op, operand.left, right);
}

function renameVariable(operand: Operand, from: string, to: string): Operand {
    if (operand.kind === "variable") return operand.name === from ? variable(to) : operand;
    if (operand.kind === "literal") return operand;
    return binary(operand.op, renameVariable(operand.left, from, to), renameVariable(operand.right, from, to));
}

/** Names assigned in the code of a partial solution. */
function definedNames(partial: string): Set<string> {
    return new Set([...partial.matchAll(/^\s*([A-Za-z_]\w*)\s*=(?!=)/gm)].map((match) => match[1] as string));
}

/**
 * Rewrites an operand so that it only reads what the partial solution defined: a plan variable that is missing (its
 * step was skipped, or is in `skipped`) is replaced by the value its step started from, as a model that skipped a fact
 * carries on with the quantity it had.
 */
function resolver(plan: SolutionPlan, defined: ReadonlySet<string>, skipped: ReadonlySet<string> = new Set()): (operand: Operand) => Operand {
    const byName = new Map(plan.steps.map((step) => [step.variable, step]));
    const resolve = (operand: Operand): Operand => {
        if (operand.kind === "literal") return operand;
        if (operand.kind === "binary") return binary(operand.op, resolve(operand.left), resolve(operand.right));
        if (defined.has(operand.name) && !skipped.has(operand.name)) return operand;
        const step = byName.get(operand.name);
        if (step === undefined) return operand;
        return resolve(carriedValue(step, plan));
    };
    return resolve;
}

/** The value a step's fact started from: the first operand of the step not computed inside the same fact. */
function carriedValue(step: PlanStep, plan: SolutionPlan): Operand {
    const sameFact = new Set(plan.steps.filter((other) => other.fact === step.fact && step.fact >= 0).map((other) => other.variable));
    const operands: Operand[] = [];
    const collect = (operand: Operand) => {
        if (operand.kind === "binary") {
            collect(operand.left);
            collect(operand.right);
        } else operands.push(operand);
    };
    collect(step.expression);
    return operands.find((operand) => operand.kind === "variable" && !sameFact.has(operand.name)) ?? operands.find((operand) => operand.kind === "literal") ?? literal(0);
}

/** The answer step: the printed output when it is a number, else a guess. */
function answerStep(plan: SolutionPlan, partial: string): string {
    const outputs = [...partial.matchAll(/<output>([\s\S]*?)<end_of_output>/g)];
    const output = outputs.at(-1)?.[1]?.trim() ?? "";
    const number = /^-?\d+(?:\.0+)?$/.test(output) ? String(Math.trunc(Number(output))) : null;
    if (number !== null) return answerStepText(plan.answerSentence(number));
    const guess = [...partial.matchAll(/\d+/g)].at(-1)?.[0] ?? "0";
    return answerStepText(`The code did not run, so my best guess is \\boxed{${guess}}.`);
}
