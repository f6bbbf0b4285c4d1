import type { FactKind, OwnerKind, QuestionKind, Slots } from "./story.js";

/**
 * Sentence templates, tried in the order listed when reading (more specific wordings first). Each one both renders a sentence from slots (the generator) and parses a sentence back into
 * slots (the teacher reads the question this way), so the two can never drift apart.
 *
 * Slots: {owner} {other} (owners), {friend} (a person who plays no part), {n} {m} {k} (integers), {items} {things}
 * {thing} (nouns), {their} (her / his / its).
 */
export interface Template<K extends string = FactKind | QuestionKind> {
    id: string;
    kind: K;
    /** "items" stories count things; "money" stories count dollars. Distractors fit both. */
    scenario: "items" | "money" | "any";
    /** Owner kinds the sentence makes sense for (money stories are about people). */
    owners: readonly OwnerKind[];
    pattern: string;
    /** Slot values implied by the wording ("twice" is k = 2). */
    constants?: Slots;
}

const ALL: readonly OwnerKind[] = ["person", "shop", "farm", "classroom"];
const PERSON: readonly OwnerKind[] = ["person"];

export const FACT_TEMPLATES: readonly Template<FactKind>[] = [
    // starting values
    { id: "start-first", kind: "start", scenario: "items", owners: ALL, pattern: "At first, {owner} has {n} {items}." },
    { id: "start-has", kind: "start", scenario: "items", owners: ALL, pattern: "{owner} has {n} {items}." },
    { id: "start-day", kind: "start", scenario: "items", owners: ALL, pattern: "{owner} starts the day with {n} {items}." },
    { id: "money-has", kind: "start", scenario: "money", owners: PERSON, pattern: "{owner} has ${n}." },
    { id: "money-saved", kind: "start", scenario: "money", owners: PERSON, pattern: "{owner} has saved ${n}." },
    // additions
    { id: "add-buy", kind: "add", scenario: "items", owners: ["person", "classroom"], pattern: "{owner} buys {n} more {items}." },
    { id: "add-find", kind: "add", scenario: "items", owners: PERSON, pattern: "{owner} finds {n} more {items}." },
    { id: "add-gets", kind: "add", scenario: "items", owners: ["person", "classroom"], pattern: "{owner} gets {n} {items} from {friend}." },
    { id: "add-make", kind: "add", scenario: "items", owners: ["shop"], pattern: "{owner} makes {n} more {items}." },
    { id: "add-deliver", kind: "add", scenario: "items", owners: ["shop", "classroom"], pattern: "A truck delivers {n} more {items} to {owner}." },
    { id: "add-collect", kind: "add", scenario: "items", owners: ["farm", "person"], pattern: "{owner} collects {n} more {items}." },
    { id: "add-gather", kind: "add", scenario: "items", owners: ["farm"], pattern: "The workers at {owner} gather {n} more {items}." },
    { id: "earn-job", kind: "add", scenario: "money", owners: PERSON, pattern: "{owner} earns ${n} from a weekend job." },
    { id: "earn-gift", kind: "add", scenario: "money", owners: PERSON, pattern: "{owner} gets ${n} from {friend}." },
    { id: "earn-chores", kind: "add", scenario: "money", owners: PERSON, pattern: "{owner} earns ${n} doing chores." },
    // removals
    { id: "remove-give", kind: "remove", scenario: "items", owners: ["person", "farm", "classroom"], pattern: "{owner} gives {n} {items} to {friend}." },
    { id: "remove-lose", kind: "remove", scenario: "items", owners: ["person", "classroom"], pattern: "{owner} loses {n} {items}." },
    { id: "remove-sell", kind: "remove", scenario: "items", owners: ["shop", "farm", "person"], pattern: "{owner} sells {n} {items}." },
    { id: "remove-use", kind: "remove", scenario: "items", owners: ["classroom", "person"], pattern: "{owner} uses {n} {items} for a project." },
    { id: "remove-broken", kind: "remove", scenario: "items", owners: ["shop", "farm"], pattern: "{n} of the {items} at {owner} are damaged and thrown away." },
    { id: "spend-lunch", kind: "remove", scenario: "money", owners: PERSON, pattern: "{owner} spends ${n} on lunch." },
    { id: "spend-book", kind: "remove", scenario: "money", owners: PERSON, pattern: "{owner} spends ${n} on a book." },
    { id: "spend-bus", kind: "remove", scenario: "money", owners: PERSON, pattern: "{owner} pays ${n} for a bus pass." },
    // groups of equal size
    { id: "groups-packs", kind: "groups", scenario: "items", owners: ["person", "classroom"], pattern: "{owner} buys {n} packs of {items}, and each pack holds {m}." },
    { id: "groups-crates", kind: "groups", scenario: "items", owners: ["shop", "farm"], pattern: "{owner} receives {n} crates of {items} with {m} in each crate." },
    { id: "groups-boxes", kind: "groups", scenario: "items", owners: ["person", "shop", "classroom"], pattern: "{owner} gets {n} boxes of {items}, each with {m} inside." },
    // multiplication
    { id: "scale-twice", kind: "scale", scenario: "items", owners: ALL, pattern: "{owner} ends up with twice as many {items} as before.", constants: { k: 2 } },
    { id: "scale-times", kind: "scale", scenario: "items", owners: ALL, pattern: "{owner} ends up with {k} times as many {items} as before." },
    // equal shares (always divisible)
    { id: "share-boxes", kind: "keep-share", scenario: "items", owners: ALL, pattern: "{owner} packs {their} {items} equally into {k} boxes and keeps only one box." },
    { id: "share-groups", kind: "keep-share", scenario: "items", owners: ALL, pattern: "{owner} splits {their} {items} into {k} equal groups and keeps one group." },
    // percentages (always whole numbers)
    { id: "percent-sell", kind: "percent-remove", scenario: "items", owners: ["person", "shop", "farm"], pattern: "{owner} sells {n}% of {their} {items}." },
    { id: "percent-give", kind: "percent-remove", scenario: "items", owners: ["person", "farm", "classroom"], pattern: "{owner} gives away {n}% of {their} {items}." },
    // shopping with money
    { id: "buy-each", kind: "buy-items", scenario: "money", owners: PERSON, pattern: "{owner} buys {n} {things} at ${m} each." },
    { id: "buy-cost", kind: "buy-items", scenario: "money", owners: PERSON, pattern: "{owner} buys {n} {things} that cost ${m} each." },
    { id: "buy-sale", kind: "buy-discounted", scenario: "money", owners: PERSON, pattern: "{owner} buys a {thing} that costs ${n} but is {m}% off." },
    { id: "buy-discount", kind: "buy-discounted", scenario: "money", owners: PERSON, pattern: "{owner} buys a {thing} priced at ${n} with a {m}% discount." },
    // numbers that play no part
    { id: "distractor-age", kind: "distractor", scenario: "any", owners: ALL, pattern: "{friend} is {n} years old." },
    { id: "distractor-trip", kind: "distractor", scenario: "any", owners: ALL, pattern: "The trip to the market takes {n} minutes." },
    { id: "distractor-price", kind: "distractor", scenario: "any", owners: ALL, pattern: "A {thing} costs ${n} at another store." },
];

/** Parsed in this order: the money questions first, since "How many dollars does X have at the end?" also fits q-end. */
export const QUESTION_TEMPLATES: readonly Template<QuestionKind>[] = [
    { id: "q-money-left", kind: "money-left", scenario: "money", owners: PERSON, pattern: "How much money does {owner} have left?" },
    { id: "q-money-end", kind: "money-left", scenario: "money", owners: PERSON, pattern: "How many dollars does {owner} have at the end?" },
    { id: "q-now", kind: "now", scenario: "items", owners: ALL, pattern: "How many {items} does {owner} have now?" },
    { id: "q-end", kind: "now", scenario: "items", owners: ALL, pattern: "How many {items} does {owner} have at the end?" },
    { id: "q-worth", kind: "worth", scenario: "items", owners: ALL, pattern: "If {owner} sells all of {their} {items} for ${n} each, how much money is that?" },
    { id: "q-more", kind: "more-than", scenario: "items", owners: ["person", "farm", "classroom"], pattern: "How many more {items} does {owner} have than {other}?" },
    { id: "q-together", kind: "together", scenario: "items", owners: ["person", "farm", "classroom"], pattern: "How many {items} do {owner} and {other} have together?" },
    { id: "q-each", kind: "each-box", scenario: "items", owners: ALL, pattern: "If {owner} puts all of {their} {items} equally into {k} boxes, how many go in each box?" },
    { id: "q-left", kind: "left-over", scenario: "items", owners: ALL, pattern: "If {owner} packs {their} {items} into bags of {k}, how many are left over?" },
];

const SLOT_PATTERNS: Record<keyof Slots, string> = {
    owner: "([^,]+?)",
    other: "([^,]+?)",
    friend: "([A-Z][a-z]+)",
    n: "(\\d+)",
    m: "(\\d+)",
    k: "(\\d+)",
    items: "([a-z][a-z' -]*?)",
    things: "([a-z][a-z' -]*?)",
    thing: "([a-z][a-z' -]*?)",
    their: "(her|his|its)",
};
const NUMERIC = new Set<keyof Slots>(["n", "m", "k"]);

export function templateById(id: string): Template {
    const template = [...FACT_TEMPLATES, ...QUESTION_TEMPLATES].find((candidate) => candidate.id === id);
    if (template === undefined) throw new Error(`no sentence template "${id}"`);
    return template;
}

/** Renders a template; the sentence starts with a capital letter ("the bakery" becomes "The bakery"). */
export function renderTemplate(template: Template, slots: Slots): string {
    const text = template.pattern.replace(/\{(\w+)\}/g, (_, name: string) => {
        const value = slots[name as keyof Slots];
        if (value === undefined) throw new Error(`template "${template.id}" needs slot {${name}}`);
        return String(value);
    });
    return text.charAt(0).toUpperCase() + text.slice(1);
}

const compiled = new Map<string, { regex: RegExp; names: (keyof Slots)[] }>();

function compile(template: Template): { regex: RegExp; names: (keyof Slots)[] } {
    const cached = compiled.get(template.id);
    if (cached !== undefined) return cached;
    const names: (keyof Slots)[] = [];
    const source = template.pattern
        .split(/(\{\w+\})/)
        .map((part) => {
            const slot = /^\{(\w+)\}$/.exec(part)?.[1] as keyof Slots | undefined;
            if (slot === undefined) return part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
            names.push(slot);
            return SLOT_PATTERNS[slot];
        })
        .join("");
    const entry = { regex: new RegExp(`^${source}$`), names };
    compiled.set(template.id, entry);
    return entry;
}

/** Parses a sentence with a template: its slots (constants included), or null when the sentence does not fit. */
export function matchTemplate(template: Template, sentence: string): Slots | null {
    const { regex, names } = compile(template);
    const match = regex.exec(sentence.trim());
    if (match === null) return null;
    const slots: Slots = { ...template.constants };
    names.forEach((name, index) => {
        const raw = match[index + 1] ?? "";
        if (NUMERIC.has(name)) (slots as Record<string, number>)[name] = Number(raw);
        else (slots as Record<string, string>)[name] = name === "owner" || name === "other" ? normalizeOwner(raw) : raw;
    });
    return slots;
}

/** "The bakery" at the start of a sentence is the same owner as "the bakery" inside one. */
function normalizeOwner(raw: string): string {
    return raw.replace(/^The /, "the ");
}
