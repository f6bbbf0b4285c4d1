/**
 * The structured form of a synthetic word problem. The generator builds a Story and renders it to text; the teacher
 * policy reads the text back into a Story (see read-question.ts); both derive the solution from it with `planSolution`.
 */

export type OwnerKind = "person" | "shop" | "farm" | "classroom";

/** Facts the story can state, in the order it states them. */
export type FactKind =
    | "start" // an owner has n of an item (or $n): the starting value; of another item, a distractor
    | "add" // +n
    | "remove" // -n
    | "groups" // +(n groups of m)
    | "scale" // *k
    | "keep-share" // split into k equal parts, keep one: //k
    | "percent-remove" // -(n% of it)
    | "buy-items" // money: -(n things at $m each)
    | "buy-discounted" // money: -($n minus m% off)
    | "distractor"; // a number that plays no part

export type QuestionKind =
    | "now" // how many does X have now
    | "worth" // sells all at $n each: how much money
    | "more-than" // how many more than Y
    | "together" // X and Y together
    | "each-box" // equally into k boxes: how many in each
    | "left-over" // into bags of k: how many left over (the one place a remainder is asked for)
    | "money-left"; // how much money is left

/** What fills a template's slots; which slots a fact has depends on its template. */
export interface Slots {
    owner?: string;
    other?: string;
    friend?: string;
    n?: number;
    m?: number;
    k?: number;
    items?: string;
    their?: string;
    things?: string;
    thing?: string;
}

export interface Fact {
    kind: FactKind;
    /** Id of the template that renders (and parses) the sentence. */
    template: string;
    /** The sentence as it appears in the question. */
    text: string;
    slots: Slots;
}

export interface QuestionSentence {
    kind: QuestionKind;
    template: string;
    text: string;
    slots: Slots;
}

export interface Story {
    /** What is counted, plural ("apples", "toy cars"), or "dollars" for money stories. */
    item: string;
    facts: Fact[];
    question: QuestionSentence;
}

/** The question text: every sentence, in order, separated by single spaces. */
export function storyText(story: Story): string {
    return [...story.facts.map((fact) => fact.text), story.question.text].join(" ");
}
