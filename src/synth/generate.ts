import type { Random } from "./random.js";
import { planSolution, type SolutionPlan } from "./plan.js";
import type { Fact, FactKind, OwnerKind, QuestionKind, QuestionSentence, Slots, Story } from "./story.js";
import { FACT_TEMPLATES, QUESTION_TEMPLATES, renderTemplate, type Template } from "./templates.js";
import { DISTRACTOR_ITEMS, OWNER_GROUPS, PEOPLE, SHOPPING_PLURAL, SHOPPING_SINGLE, possessiveOf, type OwnerGroup } from "./vocabulary.js";

/** Difficulty 1 (small numbers, few distractors) to 5 (large numbers, distractors in most problems, interleaved owners). */
export const MIN_DIFFICULTY = 1;
export const MAX_DIFFICULTY = 5;
/** Most code steps a generated problem can need (the print step not counted). */
export const MAX_STEPS = 12;

export interface ProblemOptions {
    /** Code steps the reference solution takes (the print step not counted), 2 to MAX_STEPS. */
    steps: number;
    /** 1 to 5. */
    difficulty: number;
    /** Allow distractor sentences (numbers that play no part). Defaults to true. */
    distractors?: boolean;
}

export interface GeneratedStory {
    story: Story;
    plan: SolutionPlan;
    /** How many distractor sentences the story has. */
    distractors: number;
}

/**
 * One story with exactly `options.steps` solution steps, every intermediate value a positive integer. Deterministic
 * given the state of `random`. Throws if no story fits after many attempts (it does not happen for steps in range).
 */
export function generateStory(random: Random, options: ProblemOptions): GeneratedStory {
    if (!Number.isInteger(options.steps) || options.steps < 1 || options.steps > MAX_STEPS) throw new RangeError(`steps must be an integer in 1..${MAX_STEPS}, got ${options.steps}`);
    if (!Number.isInteger(options.difficulty) || options.difficulty < MIN_DIFFICULTY || options.difficulty > MAX_DIFFICULTY) {
        throw new RangeError(`difficulty must be an integer in ${MIN_DIFFICULTY}..${MAX_DIFFICULTY}, got ${options.difficulty}`);
    }
    for (let attempt = 0; attempt < 200; attempt += 1) {
        const built = tryStory(random, options);
        if (built === null) continue;
        const plan = planSolution(built.story);
        if (plan.steps.length === options.steps && plan.answer >= 0 && plan.steps.every((step) => step.value > 0 || step.fact === -1)) {
            return { ...built, plan };
        }
    }
    throw new Error(`could not generate a story with ${options.steps} steps`);
}

// ---------------------------------------------------------------------------------------------------------------

interface Chain {
    owner: string;
    value: number;
    facts: Fact[];
}

const QUESTION_COST: Record<QuestionKind, number> = { now: 0, "money-left": 0, worth: 1, "more-than": 1, together: 1, "each-box": 1, "left-over": 1 };
const FACT_COST: Partial<Record<FactKind, number>> = { add: 1, remove: 1, scale: 1, "keep-share": 1, groups: 2, "percent-remove": 2, "buy-items": 2, "buy-discounted": 3 };

function templatesFor(kind: FactKind | QuestionKind, scenario: "items" | "money", owner: OwnerKind): Template[] {
    return [...FACT_TEMPLATES, ...QUESTION_TEMPLATES].filter((t) => t.kind === kind && (t.scenario === scenario || t.scenario === "any") && t.owners.includes(owner));
}

function fact(random: Random, kind: FactKind, scenario: "items" | "money", ownerKind: OwnerKind, slots: Slots, used?: Set<string>): Fact {
    const all = templatesFor(kind, scenario, ownerKind);
    // prefer wording the story has not used yet, so repeated events read differently
    const fresh = all.filter((t) => used === undefined || !used.has(t.id));
    const template = random.pick(fresh.length > 0 ? fresh : all);
    used?.add(template.id);
    return { kind, template: template.id, text: renderTemplate(template, slots), slots: pruneSlots(template, slots) };
}

/** Keeps only the slots the template mentions (so a story read back from text equals the generated one). */
function pruneSlots(template: Template, slots: Slots): Slots {
    const kept: Slots = { ...template.constants };
    for (const name of template.pattern.match(/\{(\w+)\}/g) ?? []) {
        const key = name.slice(1, -1) as keyof Slots;
        const value = slots[key];
        if (value !== undefined) (kept as Record<string, unknown>)[key] = value;
    }
    return kept;
}

function tryStory(random: Random, options: ProblemOptions): Omit<GeneratedStory, "plan"> | null {
    const d = options.difficulty;
    const money = random.chance(0.2);
    const group: OwnerGroup = money
        ? (OWNER_GROUPS[0] as OwnerGroup)
        : random.weighted(OWNER_GROUPS.map((g) => [g, g.kind === "person" ? 3 : g.kind === "shop" ? 0.7 : 1] as const));
    const scenario = money ? "money" : "items";
    const item = money ? "dollars" : random.pick(group.items);
    const maxStart = [20, 40, 80, 120, 200][d - 1] ?? 80;
    const cap = maxStart * 6;

    const questionKinds: [QuestionKind, number][] = money
        ? [["money-left", 1]]
        : ([
              ["now", 3],
              ["worth", 1.5],
              ["each-box", 1],
              ["left-over", 1],
              ["more-than", group.kind === "shop" ? 0 : 1.5],
              ["together", group.kind === "shop" ? 0 : 1.5],
          ] as [QuestionKind, number][]);
    const questionKind = random.weighted(questionKinds.filter(([kind, weight]) => weight > 0 && QUESTION_COST[kind] < options.steps));
    const twoOwners = questionKind === "more-than" || questionKind === "together";
    const ownerNames = random.shuffle(group.names);
    const owners = ownerNames.slice(0, twoOwners ? 2 : 1);
    const friends = random.shuffle(PEOPLE.map(([name]) => name).filter((name) => !owners.includes(name)));
    let friendIndex = 0;
    const friend = () => friends[friendIndex++ % friends.length] as string;

    const budget = options.steps - QUESTION_COST[questionKind];
    const budgets = twoOwners ? splitBudget(random, budget) : [budget];
    const chains: Chain[] = [];
    for (const [index, owner] of owners.entries()) {
        const start = money ? random.int(4, 3 + 2 * d) * 10 + random.int(0, 9) * (d >= 3 ? 1 : 0) : random.int(5, maxStart);
        const slots: Slots = { owner, n: start, ...(money ? {} : { items: item }) };
        const chain: Chain = { owner, value: start, facts: [fact(random, "start", scenario, group.kind, slots)] };
        let remaining = budgets[index] ?? 0;
        const used = new Set<string>();
        while (remaining > 0) {
            const step = money ? moneyAction(random, chain, remaining, d, friend, used) : itemAction(random, chain, remaining, d, cap, item, group.kind, friend, used);
            if (step === null) return null;
            chain.facts.push(step.fact);
            chain.value = step.value;
            remaining -= FACT_COST[step.fact.kind] ?? 1;
        }
        chains.push(chain);
    }

    // the question, and the constraints that keep its answer a whole number
    const [first, second] = chains as [Chain, Chain | undefined];
    let asked = first;
    let other = second;
    const qSlots: Slots = { owner: asked.owner, ...(money ? {} : { items: item }), their: possessiveOf(asked.owner) };
    switch (questionKind) {
        case "worth":
            qSlots.n = random.int(2, 4 + 2 * d);
            break;
        case "each-box": {
            const divisors = range(2, 9).filter((k) => first.value % k === 0 && first.value / k >= 2);
            if (divisors.length === 0) return null;
            qSlots.k = random.pick(divisors);
            break;
        }
        case "left-over": {
            const sizes = range(3, 10).filter((k) => first.value % k !== 0 && first.value > k);
            if (sizes.length === 0) return null;
            qSlots.k = random.pick(sizes);
            break;
        }
        case "more-than":
            if (second === undefined || second.value === first.value) return null;
            if (second.value > first.value) [asked, other] = [second, first];
            qSlots.owner = asked.owner;
            qSlots.their = possessiveOf(asked.owner);
            break;
        default:
            break;
    }
    if (other !== undefined) qSlots.other = other.owner;
    const questionTemplate = random.pick(templatesFor(questionKind, scenario, group.kind));
    const question: QuestionSentence = { kind: questionKind, template: questionTemplate.id, text: renderTemplate(questionTemplate, qSlots), slots: pruneSlots(questionTemplate, qSlots) };

    // sentence order: starting values first, then the events (interleaved between owners on harder levels)
    const facts: Fact[] = chains.map((chain) => chain.facts[0] as Fact);
    const events = chains.map((chain) => chain.facts.slice(1));
    if (d >= 3 && events.length === 2) {
        const [a, b] = events as [Fact[], Fact[]];
        while (a.length > 0 || b.length > 0) {
            const takeA = b.length === 0 || (a.length > 0 && random.chance(0.5));
            facts.push((takeA ? a.shift() : b.shift()) as Fact);
        }
    } else {
        for (const list of events) facts.push(...list);
    }

    // distractors: numbers that play no part
    let distractors = 0;
    if (options.distractors !== false) {
        const p = 0.1 + 0.1 * d;
        const count = random.chance(p) ? (random.chance(p / 2) ? 2 : 1) : 0;
        for (let i = 0; i < count; i += 1) {
            const kind = random.pick(["age", "trip", "price", "other-item"] as const);
            const n = random.int(2, maxStart);
            const distractor =
                kind === "other-item"
                    ? fact(random, "start", "items", "person", { owner: friend(), n, items: random.pick(DISTRACTOR_ITEMS) })
                    : renderDistractor(kind, { friend: friend(), n, thing: random.pick(SHOPPING_SINGLE) });
            facts.splice(random.int(1, facts.length), 0, distractor);
            distractors += 1;
        }
    }
    return { story: { item, facts, question }, distractors };
}

function renderDistractor(kind: "age" | "trip" | "price", slots: Slots): Fact {
    const template = FACT_TEMPLATES.find((t) => t.id === `distractor-${kind}`) as Template;
    return { kind: "distractor", template: template.id, text: renderTemplate(template, slots), slots: pruneSlots(template, slots) };
}

function splitBudget(random: Random, budget: number): [number, number] {
    if (budget <= 1) return [budget, 0];
    const a = random.int(Math.ceil(budget / 2), budget);
    return [a, budget - a];
}

function range(from: number, to: number): number[] {
    return Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);
}

interface Action {
    fact: Fact;
    value: number;
}

function itemAction(random: Random, chain: Chain, remaining: number, d: number, cap: number, items: string, ownerKind: OwnerKind, friend: () => string, used: Set<string>): Action | null {
    const v = chain.value;
    const owner = chain.owner;
    const their = possessiveOf(owner);
    const maxAmount = Math.max(5, Math.floor(cap / 8));
    const candidates: [() => Action | null, number][] = [];
    const has = (kind: FactKind) => templatesFor(kind, "items", ownerKind).length > 0 && (FACT_COST[kind] ?? 1) <= remaining;
    const make = (kind: FactKind, slots: Slots, value: number): Action => ({ fact: fact(random, kind, "items", ownerKind, { owner, items, their, friend: friend(), ...slots }, used), value });

    if (has("add") && v + 2 <= cap) candidates.push([() => { const n = random.int(2, Math.min(maxAmount, cap - v)); return make("add", { n }, v + n); }, 2]);
    if (has("remove") && v >= 4) candidates.push([() => { const n = random.int(2, Math.min(v - 2, maxAmount)); return make("remove", { n }, v - n); }, 2]);
    if (has("groups") && v + 4 <= cap) {
        candidates.push([() => {
            const n = random.int(2, 2 + d);
            const m = random.int(2, Math.max(2, Math.min(4 + 3 * d, Math.floor((cap - v) / n))));
            return v + n * m <= cap ? make("groups", { n, m }, v + n * m) : null;
        }, 1.2]);
    }
    const factors = range(2, d >= 3 ? 5 : 4).filter((k) => v * k <= cap);
    if (has("scale") && factors.length > 0) candidates.push([() => { const k = random.pick(factors); return make("scale", { k }, v * k); }, 0.8]);
    const parts = range(2, 7).filter((k) => v % k === 0 && v / k >= 2);
    if (has("keep-share") && parts.length > 0) candidates.push([() => { const k = random.pick(parts); return make("keep-share", { k }, v / k); }, 1]);
    const percents = [10, 20, 25, 30, 40, 50, 60, 75, 80].filter((p) => (v * p) % 100 === 0 && v - (v * p) / 100 >= 1);
    if (has("percent-remove") && percents.length > 0) {
        candidates.push([() => { const p = random.pick(percents); return make("percent-remove", { n: p }, v - (v * p) / 100); }, 1.2]);
    }
    if (candidates.length === 0) return null;
    return random.weighted(candidates)();
}

function moneyAction(random: Random, chain: Chain, remaining: number, d: number, friend: () => string, used: Set<string>): Action | null {
    const v = chain.value;
    const owner = chain.owner;
    const make = (kind: FactKind, slots: Slots, value: number): Action => ({ fact: fact(random, kind, "money", "person", { owner, friend: friend(), ...slots }, used), value });
    const candidates: [() => Action | null, number][] = [];
    candidates.push([() => { const n = random.int(5, 15 + 10 * d); return make("add", { n }, v + n); }, 1.5]);
    if (v >= 10) candidates.push([() => { const n = random.int(3, Math.min(25, v - 5)); return make("remove", { n }, v - n); }, 1]);
    if (remaining >= 2 && v >= 10) {
        candidates.push([() => {
            const n = random.int(2, 6);
            const m = random.int(2, Math.max(2, Math.min(10 + 5 * d, Math.floor((v - 1) / n))));
            return n * m < v ? make("buy-items", { n, m, things: random.pick(SHOPPING_PLURAL) }, v - n * m) : null;
        }, 2]);
    }
    if (remaining >= 3 && v >= 20) {
        candidates.push([() => {
            const percent = random.pick([10, 20, 25, 30, 40, 50]);
            const unit = 100 / gcd(100, percent);
            const price = unit * random.int(Math.ceil(10 / unit), Math.max(Math.ceil(10 / unit), Math.floor((v * 1.5) / unit)));
            const sale = price - (price * percent) / 100;
            return sale < v && sale > 0 ? make("buy-discounted", { n: price, m: percent, thing: random.pick(SHOPPING_SINGLE) }, v - sale) : null;
        }, 2]);
    }
    return random.weighted(candidates)();
}

function gcd(a: number, b: number): number {
    return b === 0 ? a : gcd(b, a % b);
}
