import { binary, evaluate, literal, literals, toPython, variable, type Expression, type Operand } from "./expression.js";
import type { Fact, Slots, Story } from "./story.js";
import { storyText } from "./story.js";
import { slug } from "./vocabulary.js";

/** One code step of a solution: one quantity, computed by one expression, with the reasoning as a comment. */
export interface PlanStep {
    variable: string;
    expression: Expression;
    /** The reasoning, as the reference solution writes it. */
    comment: string;
    /** Another wording of the same reasoning (a sampling teacher varies its comments). */
    altComment: string;
    value: number;
    /** Index of the fact the step comes from, or -1 for the question. */
    fact: number;
}

export interface SolutionPlan {
    steps: PlanStep[];
    /** What the last code step prints. */
    final: Operand;
    answer: number;
    /** The answer sentence with `\boxed{value}`. */
    answerSentence: (value: string) => string;
    /** Numbers in the question the solution never uses. */
    distractorNumbers: number[];
}

/** Words used in variable names for each template (what happened). */
const EVENT_WORDS: Record<string, string> = {
    "add-buy": "buying",
    "add-find": "finding",
    "add-gets": "gift",
    "add-make": "baking",
    "add-deliver": "delivery",
    "add-collect": "collecting",
    "add-gather": "gathering",
    "earn-job": "job",
    "earn-gift": "gift",
    "remove-give": "giving",
    "remove-lose": "losing",
    "remove-sell": "selling",
    "remove-use": "project",
    "remove-broken": "damage",
    "spend-lunch": "lunch",
    "spend-book": "book",
    "spend-bus": "bus_pass",
    "earn-chores": "chores",
    "groups-packs": "packs",
    "groups-crates": "crates",
    "groups-boxes": "boxes",
    "percent-sell": "sold",
    "percent-give": "given_away",
};

const need = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`a fact is missing its ${what}`);
    return value;
};

const capitalize = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1);
const withoutPeriod = (sentence: string): string => sentence.replace(/[.?!]\s*$/, "");

/**
 * Derives the reference solution's steps from a story: facts in the order the question states them, one quantity per
 * step, only for the owners the question asks about. Shared by the generator (from its own story) and the teacher
 * (from the story it read back), so a teacher that makes no mistakes writes exactly the reference solution.
 */
export function planSolution(story: Story): SolutionPlan {
    const money = story.item === "dollars";
    const question = story.question;
    const owners = new Set([question.slots.owner, question.slots.other].filter((owner): owner is string => owner !== undefined));
    const current = new Map<string, Operand>();
    const values = new Map<string, number>();
    const steps: PlanStep[] = [];
    const used = new Set<string>();

    const nameFor = (base: string): string => {
        let name = base;
        for (let suffix = 2; used.has(name); suffix += 1) name = `${base}_${suffix}`;
        used.add(name);
        return name;
    };
    const emit = (base: string, expression: Expression, comment: string, altComment: string, fact: number): Operand => {
        const name = nameFor(base);
        const value = evaluate(expression, values);
        values.set(name, value);
        steps.push({ variable: name, expression, comment: capitalize(comment), altComment: capitalize(altComment), value, fact });
        return variable(name);
    };
    const quantity = (owner: string): string => (money ? `${slug(owner)}_money` : `${slug(owner)}_${slug(story.item)}`);
    const startNote = (operand: Operand): string => (operand.kind === "literal" ? ` (starting from ${operand.value})` : "");

    story.facts.forEach((fact, index) => {
        const slots = fact.slots;
        const owner = slots.owner;
        if (fact.kind === "start") {
            const relevant = owner !== undefined && owners.has(owner) && (money ? slots.items === undefined : slots.items === story.item);
            if (relevant) current.set(owner, literal(need(slots.n, "number")));
            return;
        }
        if (fact.kind === "distractor" || owner === undefined || !owners.has(owner)) return;
        if (slots.items !== undefined && slots.items !== story.item) return;
        const before = current.get(owner);
        if (before === undefined) return;
        const sentence = withoutPeriod(fact.text);
        const base = quantity(owner);
        const word = EVENT_WORDS[fact.template] ?? slug(fact.kind);
        let after: Operand;
        switch (fact.kind) {
            case "add": {
                const n = need(slots.n, "number");
                after = emit(`${base}_after_${word}`, binary("+", before, literal(n)), `${sentence}, so add ${n}${startNote(before)}`, `add the ${n} new ones${startNote(before)}`, index);
                break;
            }
            case "remove": {
                const n = need(slots.n, "number");
                after = emit(`${base}_after_${word}`, binary("-", before, literal(n)), `${sentence}, so subtract ${n}${startNote(before)}`, `take away ${n}${startNote(before)}`, index);
                break;
            }
            case "groups": {
                const n = need(slots.n, "number");
                const m = need(slots.m, "number");
                const added = emit(`${slug(story.item)}_in_${word}`, binary("*", literal(n), literal(m)), `${sentence}, so multiply ${n} by ${m}`, `${n} ${word} with ${m} each`, index);
                after = emit(`${base}_after_${word}`, binary("+", before, added), `add the ${story.item} from the ${word}${startNote(before)}`, `add what came in the ${word}${startNote(before)}`, index);
                break;
            }
            case "scale": {
                const k = need(slots.k, "factor");
                after = emit(`${base}_after_${k === 2 ? "doubling" : "multiplying"}`, binary("*", before, literal(k)), `${sentence}, so multiply by ${k}${startNote(before)}`, `${k} times as many as before${startNote(before)}`, index);
                break;
            }
            case "keep-share": {
                const k = need(slots.k, "number of parts");
                after = emit(`${base}_kept`, binary("//", before, literal(k)), `${sentence}, so divide by ${k}${startNote(before)}`, `one of ${k} equal parts is kept${startNote(before)}`, index);
                break;
            }
            case "percent-remove": {
                const n = need(slots.n, "percent");
                const part = emit(`${slug(story.item)}_${word}`, binary("//", binary("*", before, literal(n)), literal(100)), `${sentence}, so find ${n}% of them${startNote(before)}`, `${n} percent of the ${story.item}${startNote(before)}`, index);
                after = emit(`${base}_after_${word === "sold" ? "selling" : "giving_away"}`, binary("-", before, part), `subtract the ${story.item} ${word.replace(/_/g, " ")}`, `remove that part`, index);
                break;
            }
            case "buy-items": {
                const n = need(slots.n, "count");
                const m = need(slots.m, "price");
                const things = slug(need(slots.things, "things"));
                const cost = emit(`cost_of_${things}`, binary("*", literal(n), literal(m)), `${sentence}, so the cost is ${n} times $${m}`, `price of ${n} ${slots.things ?? ""} at $${m} each`, index);
                after = emit(`${base}_after_${things}`, binary("-", before, cost), `subtract the cost${startNote(before)}`, `pay for them${startNote(before)}`, index);
                break;
            }
            case "buy-discounted": {
                const price = need(slots.n, "price");
                const percent = need(slots.m, "percent");
                const thing = slug(need(slots.thing, "thing"));
                const discount = emit(`${thing}_discount`, binary("//", binary("*", literal(price), literal(percent)), literal(100)), `${sentence}, so the discount is ${percent}% of $${price}`, `${percent} percent of $${price}`, index);
                const salePrice = emit(`${thing}_sale_price`, binary("-", literal(price), discount), `the sale price is the price minus the discount`, `price after the discount`, index);
                after = emit(`${base}_after_${thing}`, binary("-", before, salePrice), `subtract the sale price${startNote(before)}`, `pay the sale price${startNote(before)}`, index);
                break;
            }
        }
        current.set(owner, after);
    });

    const q = question.slots;
    const owner = need(q.owner, "owner");
    const own = current.get(owner) ?? literal(0);
    const items = story.item;
    let final: Operand = own;
    let answerSentence: (value: string) => string;
    const Owner = capitalize(owner);
    switch (question.kind) {
        case "now":
            answerSentence = (v) => `${Owner} has \\boxed{${v}} ${items} now.`;
            break;
        case "money-left":
            answerSentence = (v) => `${Owner} has \\boxed{${v}} dollars left.`;
            break;
        case "worth": {
            const n = need(q.n, "price");
            final = emit(`money_from_${slug(items)}`, binary("*", own, literal(n)), `${owner} sells all the ${items} at $${n} each, so multiply by ${n}`, `all the ${items} times $${n}`, -1);
            answerSentence = (v) => `That is \\boxed{${v}} dollars.`;
            break;
        }
        case "more-than": {
            const other = need(q.other, "other owner");
            final = emit(`${slug(owner)}_more_than_${slug(other)}`, binary("-", own, current.get(other) ?? literal(0)), `subtract ${other}'s ${items} from ${owner}'s`, `the difference between ${owner} and ${other}`, -1);
            answerSentence = (v) => `${Owner} has \\boxed{${v}} more ${items} than ${other}.`;
            break;
        }
        case "together": {
            const other = need(q.other, "other owner");
            final = emit(`total_${slug(items)}`, binary("+", own, current.get(other) ?? literal(0)), `add ${owner}'s and ${other}'s ${items}`, `${owner} and ${other} together`, -1);
            answerSentence = (v) => `Together they have \\boxed{${v}} ${items}.`;
            break;
        }
        case "each-box": {
            const k = need(q.k, "boxes");
            final = emit(`${slug(items)}_per_box`, binary("//", own, literal(k)), `share the ${items} equally among ${k} boxes`, `divide by the ${k} boxes`, -1);
            answerSentence = (v) => `Each box gets \\boxed{${v}} ${items}.`;
            break;
        }
        case "left-over": {
            const k = need(q.k, "bag size");
            final = emit(`${slug(items)}_left_over`, binary("%", own, literal(k)), `the ${items} left over after filling bags of ${k} are the remainder`, `remainder after bags of ${k}`, -1);
            answerSentence = (v) => `There are \\boxed{${v}} ${items} left over.`;
            break;
        }
    }
    const answer = evaluate(final, values);
    const usedNumbers = new Set([...steps.flatMap((step) => literals(step.expression)), ...literals(final)]);
    const distractorNumbers = [...new Set((storyText(story).match(/\d+/g) ?? []).map(Number))].filter((n) => !usedNumbers.has(n));
    return { steps, final, answer, answerSentence, distractorNumbers };
}

/** The code line of a step: `name = expression`. */
export function stepCode(step: Pick<PlanStep, "variable" | "expression">): string {
    return `${step.variable} = ${toPython(step.expression)}`;
}

export type { Slots };
