import type { OwnerKind } from "./story.js";

/** People, with the possessive the story uses for them. Names have no periods (sentences split on ". "). */
export const PEOPLE: readonly (readonly [name: string, possessive: "her" | "his"])[] = [
    ["Maya", "her"], ["Leo", "his"], ["Aisha", "her"], ["Ben", "his"], ["Chloe", "her"], ["Diego", "his"],
    ["Emma", "her"], ["Farid", "his"], ["Grace", "her"], ["Hiro", "his"], ["Ines", "her"], ["Jonas", "his"],
    ["Keiko", "her"], ["Liam", "his"], ["Mei", "her"], ["Noah", "his"], ["Olivia", "her"], ["Pedro", "his"],
    ["Priya", "her"], ["Omar", "his"], ["Sofia", "her"], ["Tariq", "his"], ["Uma", "her"], ["Victor", "his"],
];

export interface OwnerGroup {
    kind: OwnerKind;
    names: readonly string[];
    items: readonly string[];
}

/** Owners other than people, and what each kind of owner counts. */
export const OWNER_GROUPS: readonly OwnerGroup[] = [
    { kind: "person", names: PEOPLE.map(([name]) => name), items: ["marbles", "stickers", "stamps", "books", "apples", "trading cards", "seashells", "crayons"] },
    { kind: "shop", names: ["the bakery", "the corner cafe", "the market stall"], items: ["muffins", "cupcakes", "cookies", "bread rolls"] },
    { kind: "shop", names: ["the bookshop", "the stationery store"], items: ["notebooks", "pens", "postcards"] },
    { kind: "shop", names: ["the toy store", "the gift shop"], items: ["toy cars", "puzzles", "kites", "yo-yos"] },
    { kind: "farm", names: ["Green Valley farm", "Sunny Hill farm", "Oak Creek farm", "Maple Ridge farm"], items: ["eggs", "pumpkins", "potatoes", "melons"] },
    { kind: "classroom", names: ["Mrs Lee's class", "Mr Okafor's class", "Ms Rossi's class", "Mr Novak's class"], items: ["pencils", "crayons", "notebooks", "glue sticks", "erasers"] },
];

/** Things bought with money in money stories: plural for "n things", singular for "a thing". */
export const SHOPPING_PLURAL: readonly string[] = ["notebooks", "comic books", "sandwiches", "movie tickets", "plants", "t-shirts", "board games"];
export const SHOPPING_SINGLE: readonly string[] = ["jacket", "bicycle", "backpack", "lamp", "pair of shoes", "video game", "watch"];

/** Items only distractor sentences mention. */
export const DISTRACTOR_ITEMS: readonly string[] = ["oranges", "pebbles", "balloons", "ribbons", "buttons", "feathers"];

export function possessiveOf(owner: string): "her" | "his" | "its" {
    return PEOPLE.find(([name]) => name === owner)?.[1] ?? "its";
}

/** Identifier-friendly form: lower case, "the " dropped, apostrophes dropped, other non-alphanumerics as "_". */
export function slug(text: string): string {
    return text
        .toLowerCase()
        .replace(/^the /, "")
        .replace(/'/g, "")
        .replace(/[^a-z0-9]+/g, "_")
        .replace(/^_+|_+$/g, "");
}
