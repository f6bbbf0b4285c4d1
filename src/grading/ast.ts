/**
 * The typed form of an answer. Scalar nodes (num … pct) form expression trees; the others are structures
 * (tuples, intervals, sets, matrices, relations, text, choice letters, base-n numerals) compared by type.
 */
import type { Rational } from "./rational.js";

export type RelOp = "=" | "<" | "<=" | ">" | ">=" | "!=" | "approx" | "in";

/** Known function names (the Python side builds each with an explicit table). */
export const FUNCTIONS = [
    "sin", "cos", "tan", "cot", "sec", "csc",
    "asin", "acos", "atan", "acot", "asec", "acsc",
    "sinh", "cosh", "tanh",
    "ln", "log", "exp", "abs", "floor", "ceil", "factorial", "binom", "gcd", "lcm", "max", "min",
] as const;
export type FunctionName = (typeof FUNCTIONS)[number];

export type Node =
    /** An exact rational; `dec` marks a decimal literal (`0.25`), `sci` the power of ten of a scientific literal. */
    | { t: "num"; v: Rational; dec?: true }
    | { t: "sym"; name: string }
    | { t: "const"; name: "pi" | "e" | "i" | "inf" }
    | { t: "add"; args: Node[] }
    | { t: "mul"; args: Node[] }
    | { t: "neg"; arg: Node }
    | { t: "div"; num: Node; den: Node }
    | { t: "pow"; base: Node; exp: Node }
    | { t: "root"; arg: Node; index: Node }
    | { t: "fn"; name: FunctionName; args: Node[] }
    | { t: "pct"; arg: Node }
    /** a ± b (a may be absent: `\pm 3`); `sign` -1 for ∓. */
    | { t: "pm"; a: Node | null; b: Node; sign: 1 | -1 }
    | { t: "seq"; open: "(" | "["; close: ")" | "]"; items: Node[] }
    | { t: "set"; items: Node[] }
    | { t: "list"; items: Node[] }
    | { t: "union"; parts: Node[] }
    | { t: "mat"; rows: Node[][] }
    | { t: "transpose"; arg: Node }
    | { t: "rel"; ops: RelOp[]; sides: Node[] }
    | { t: "text"; s: string }
    | { t: "choice"; letters: string[] }
    | { t: "base"; digits: string; base: number };

export const SCALAR_KINDS = new Set<Node["t"]>(["num", "sym", "const", "add", "mul", "neg", "div", "pow", "root", "fn", "pct"]);

export function isScalar(node: Node): boolean {
    switch (node.t) {
        case "num":
        case "sym":
        case "const":
            return true;
        case "add":
        case "mul":
            return node.args.every(isScalar);
        case "neg":
        case "pct":
            return isScalar(node.arg);
        case "div":
            return isScalar(node.num) && isScalar(node.den);
        case "pow":
            return isScalar(node.base) && isScalar(node.exp);
        case "root":
            return isScalar(node.arg) && isScalar(node.index);
        case "fn":
            return node.args.every(isScalar);
        default:
            return false;
    }
}

/** Whether any decimal literal occurs in a tree (then values compare rounded to 6 places). */
export function hasDecimal(node: Node): boolean {
    switch (node.t) {
        case "num":
            return node.dec === true;
        case "add":
        case "mul":
        case "fn":
            return node.args.some(hasDecimal);
        case "neg":
        case "pct":
        case "transpose":
            return hasDecimal(node.arg);
        case "div":
            return hasDecimal(node.num) || hasDecimal(node.den);
        case "pow":
            return hasDecimal(node.base) || hasDecimal(node.exp);
        case "root":
            return hasDecimal(node.arg) || hasDecimal(node.index);
        default:
            return false;
    }
}

/** A stable string key for a tree (structural identity, memo keys). */
const keys = new WeakMap<Node, string>();
const bigintSafe = (_k: string, value: unknown): unknown => (typeof value === "bigint" ? value.toString() : value);

export function key(node: Node): string {
    let k = keys.get(node);
    if (k === undefined) {
        k = JSON.stringify(node, bigintSafe);
        keys.set(node, k);
    }
    return k;
}

/** Builds a JSON-safe expression tree for the Python CAS: bigints become decimal strings, `pct` becomes /100. */
export type WireNode =
    | { t: "num"; n: string; d: string }
    | { t: "sym"; name: string }
    | { t: "const"; name: string }
    | { t: "add" | "mul"; args: WireNode[] }
    | { t: "neg"; arg: WireNode }
    | { t: "div"; num: WireNode; den: WireNode }
    | { t: "pow"; base: WireNode; exp: WireNode }
    | { t: "root"; arg: WireNode; index: WireNode }
    | { t: "fn"; name: string; args: WireNode[] };

export function toWire(node: Node): WireNode | undefined {
    switch (node.t) {
        case "num":
            return { t: "num", n: node.v.n.toString(), d: node.v.d.toString() };
        case "sym":
            return { t: "sym", name: node.name };
        case "const":
            return { t: "const", name: node.name };
        case "add":
        case "mul": {
            const args = node.args.map(toWire);
            return args.every((a): a is WireNode => a !== undefined) ? { t: node.t, args } : undefined;
        }
        case "neg": {
            const arg = toWire(node.arg);
            return arg && { t: "neg", arg };
        }
        case "pct": {
            const arg = toWire(node.arg);
            return arg && { t: "div", num: arg, den: { t: "num", n: "100", d: "1" } };
        }
        case "div": {
            const num = toWire(node.num);
            const den = toWire(node.den);
            return num && den && { t: "div", num, den };
        }
        case "pow": {
            const base = toWire(node.base);
            const exp = toWire(node.exp);
            return base && exp && { t: "pow", base, exp };
        }
        case "root": {
            const arg = toWire(node.arg);
            const index = toWire(node.index);
            return arg && index && { t: "root", arg, index };
        }
        case "fn": {
            const args = node.args.map(toWire);
            return args.every((a): a is WireNode => a !== undefined) ? { t: "fn", name: node.name, args } : undefined;
        }
        default:
            return undefined;
    }
}
