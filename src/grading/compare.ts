/**
 * Comparison by type. Structures (sets, tuples, intervals, matrices, relations) are matched here; scalar leaves
 * go to an oracle: the fast path (exact Q(i) arithmetic, float refutation) or, when that cannot decide, the CAS.
 * Results are three-valued: true, false, or undefined = "needs the CAS for some leaf".
 */
import { hasDecimal, isScalar, key, type Node, type RelOp } from "./ast.js";
import type { Answer } from "./answer.js";
import { certainlyDifferent, evalExact, evalFloat, exactEqual, type Exact } from "./evaluate.js";
import { roundUnits } from "./rational.js";

export type Tri = boolean | undefined;

/** A question for the CAS about two scalar trees. */
export type LeafQuery =
    /** Equal values; `places` set when decimals compare rounded (to that many decimal places). */
    | { kind: "expr"; a: Node; b: Node; places: number | null }
    /** Same solution set: (a0 - a1) is a nonzero constant multiple of (b0 - b1). */
    | { kind: "eqn"; a: [Node, Node]; b: [Node, Node] }
    /** Same inequality: a > 0 and b > 0 (or ≥) with a a positive constant multiple of b. */
    | { kind: "ineq"; a: Node; b: Node };

export type Oracle = (query: LeafQuery) => Tri;

/** Limits on one comparison. */
export const MAX_ITEMS = 64;
const MAX_PM_VARIANTS = 16;
const DEFAULT_PLACES = 6;

const and = (a: Tri, b: Tri): Tri => (a === false || b === false ? false : a === true && b === true ? true : undefined);
const or = (a: Tri, b: Tri): Tri => (a === true || b === true ? true : a === false && b === false ? false : undefined);

export function queryKey(q: LeafQuery): string {
    switch (q.kind) {
        case "expr":
            return `e|${q.places}|${key(q.a)}|${key(q.b)}`;
        case "eqn":
            return `q|${key(q.a[0])}|${key(q.a[1])}|${key(q.b[0])}|${key(q.b[1])}`;
        case "ineq":
            return `i|${key(q.a)}|${key(q.b)}`;
    }
}

// ---------------------------------------------------------------- fast leaf decisions

function sciExponent(node: Node): number | undefined {
    const n = node.t === "neg" ? node.arg : node;
    if (n.t !== "mul" || n.args.length !== 2) return undefined;
    const [m, p] = n.args as [Node, Node];
    if (m.t !== "num" || m.dec !== true || p.t !== "pow" || p.base.t !== "num" || p.base.v.n !== 10n || p.base.v.d !== 1n) return undefined;
    const e = evalExact(p.exp);
    if (e?.kind !== "c" || e.v.im.n !== 0n || e.v.re.d !== 1n) return undefined;
    const k = Number(e.v.re.n);
    return Math.abs(k) <= 300 ? k : undefined;
}

/** Decimal places to round to when a decimal literal is involved, else null (exact comparison). */
export function roundingPlaces(a: Node, b: Node): number | null {
    let places: number | null = null;
    for (const side of [a, b]) {
        if (!hasDecimal(side)) continue;
        const k = sciExponent(side);
        const p = k === undefined ? DEFAULT_PLACES : DEFAULT_PLACES - k;
        places = places === null ? p : Math.max(places, p);
    }
    return places;
}

function roundedEqual(a: Exact, b: Exact, places: number): boolean {
    if (a.kind === "inf" || b.kind === "inf") return exactEqual(a, b);
    return roundUnits(a.v.re, places) === roundUnits(b.v.re, places) && roundUnits(a.v.im, places) === roundUnits(b.v.im, places);
}

const POINTS = [1, 2, 3];

function hasSymbols(node: Node): boolean {
    switch (node.t) {
        case "sym":
            return true;
        case "add":
        case "mul":
        case "fn":
            return node.args.some(hasSymbols);
        case "neg":
        case "pct":
            return hasSymbols(node.arg);
        case "div":
            return hasSymbols(node.num) || hasSymbols(node.den);
        case "pow":
            return hasSymbols(node.base) || hasSymbols(node.exp);
        case "root":
            return hasSymbols(node.arg) || hasSymbols(node.index);
        default:
            return false;
    }
}

/** Decides a leaf query without Python when it can; undefined means "ask the CAS". */
export function fastLeaf(q: LeafQuery): Tri {
    if (q.kind === "expr") {
        const ea = evalExact(q.a);
        const eb = evalExact(q.b);
        if (ea !== undefined && eb !== undefined) return q.places === null ? exactEqual(ea, eb) : roundedEqual(ea, eb, q.places);
        if (key(q.a) === key(q.b)) return true;
        const minGap = q.places === null ? 0 : 10 ** -q.places;
        const points = hasSymbols(q.a) || hasSymbols(q.b) ? POINTS : [0];
        for (const point of points) {
            if (certainlyDifferent(evalFloat(q.a, point), evalFloat(q.b, point), minGap)) return false;
        }
        return undefined;
    }
    if (q.kind === "eqn") {
        const [a0, a1] = q.a;
        const [b0, b1] = q.b;
        if ((key(a0) === key(b0) && key(a1) === key(b1)) || (key(a0) === key(b1) && key(a1) === key(b0))) return true;
        // Refute: the ratio (a0-a1)/(b0-b1) must be one constant at every point.
        let ratio: number | undefined;
        for (const point of POINTS) {
            const da = diffFloat(a0, a1, point);
            const db = diffFloat(b0, b1, point);
            if (da === undefined || db === undefined) return undefined;
            const scale = 1e-9 * (1 + da.mag + db.mag);
            const aZero = Math.abs(da.v) <= scale;
            const bZero = Math.abs(db.v) <= scale;
            if (aZero !== bZero) {
                if (Math.abs(da.v) > 1e-6 * (1 + da.mag) || Math.abs(db.v) > 1e-6 * (1 + db.mag)) return false;
                return undefined;
            }
            if (aZero) continue;
            const r = da.v / db.v;
            if (ratio === undefined) ratio = r;
            else if (Math.abs(r - ratio) > 1e-6 * (Math.abs(r) + Math.abs(ratio))) return false;
        }
        return undefined;
    }
    if (key(q.a) === key(q.b)) return true;
    return undefined;
}

function diffFloat(a: Node, b: Node, point: number): { v: number; mag: number } | undefined {
    const x = evalFloat(a, point);
    const y = evalFloat(b, point);
    if (!Number.isFinite(x.re) || !Number.isFinite(y.re) || x.im !== 0 || y.im !== 0 || !Number.isFinite(x.mag) || !Number.isFinite(y.mag)) return undefined;
    return { v: x.re - y.re, mag: Math.max(x.mag, y.mag) };
}

// ---------------------------------------------------------------- tree helpers

/** Expands ± into its variants; more than one variant makes a set. */
function expandPm(node: Node): Node[] {
    switch (node.t) {
        case "pm": {
            const bs = expandPm(node.b);
            const as = node.a === null ? [null] : expandPm(node.a);
            const out: Node[] = [];
            for (const a of as)
                for (const b of bs)
                    for (const s of [node.sign, -node.sign]) {
                        const term: Node = s === 1 ? b : { t: "neg", arg: b };
                        out.push(a === null ? term : { t: "add", args: [a, term] });
                    }
            return out.slice(0, MAX_PM_VARIANTS);
        }
        case "add":
        case "mul":
        case "fn": {
            let variants: Node[][] = [[]];
            for (const arg of node.args) {
                const options = expandPm(arg);
                variants = variants.flatMap((v) => options.map((o) => [...v, o])).slice(0, MAX_PM_VARIANTS);
            }
            return variants.map((args) => ({ ...node, args }) as Node);
        }
        case "neg":
        case "pct":
            return expandPm(node.arg).map((arg) => ({ ...node, arg }));
        case "div":
            return cross(expandPm(node.num), expandPm(node.den)).map(([num, den]) => ({ t: "div", num, den }));
        case "pow":
            return cross(expandPm(node.base), expandPm(node.exp)).map(([base, exp]) => ({ t: "pow", base, exp }));
        case "root":
            return expandPm(node.arg).map((arg) => ({ t: "root", arg, index: node.index }));
        case "rel": {
            let variants: Node[][] = [[]];
            for (const side of node.sides) {
                const options = expandPm(side);
                variants = variants.flatMap((v) => options.map((o) => [...v, o])).slice(0, MAX_PM_VARIANTS);
            }
            return variants.map((sides) => ({ t: "rel", ops: node.ops, sides }));
        }
        default:
            return [node];
    }
}

function cross(a: Node[], b: Node[]): Array<[Node, Node]> {
    return a.flatMap((x) => b.map((y): [Node, Node] => [x, y])).slice(0, MAX_PM_VARIANTS);
}

/** Replaces ± by set variants everywhere items can hold them. */
function resolvePm(node: Node): Node {
    switch (node.t) {
        case "list":
        case "set":
            return { ...node, items: node.items.flatMap((item) => flattenVariants(resolvePm(item))) };
        case "seq":
            return { ...node, items: node.items.map(resolvePm) };
        case "union":
            return { ...node, parts: node.parts.map(resolvePm) };
        default: {
            const variants = expandPm(node);
            return variants.length === 1 ? (variants[0] as Node) : { t: "set", items: variants };
        }
    }
}

function flattenVariants(node: Node): Node[] {
    return node.t === "set" && node.items.every((i) => i.t !== "set") && node.items.length > 0 ? node.items : [node];
}

function containsMatrix(node: Node): boolean {
    switch (node.t) {
        case "mat":
            return true;
        case "transpose":
        case "neg":
            return containsMatrix(node.arg);
        case "add":
        case "mul":
            return node.args.some(containsMatrix);
        case "div":
            return containsMatrix(node.num);
        default:
            return false;
    }
}

/** Reduces scalar·matrix, matrix sums and products and transposes to one matrix of scalar entries. */
function reduceMatrix(node: Node): Node[][] | Node | undefined {
    switch (node.t) {
        case "mat":
            return node.rows;
        case "transpose": {
            const m = reduceMatrix(node.arg);
            if (!Array.isArray(m)) return undefined;
            return (m[0] as Node[]).map((_, j) => m.map((row) => row[j] as Node));
        }
        case "neg": {
            const m = reduceMatrix(node.arg);
            if (!Array.isArray(m)) return m === undefined ? undefined : { t: "neg", arg: m };
            return m.map((row) => row.map((x): Node => ({ t: "neg", arg: x })));
        }
        case "div": {
            const m = reduceMatrix(node.num);
            if (!Array.isArray(m) || !isScalar(node.den)) return undefined;
            return m.map((row) => row.map((x): Node => ({ t: "div", num: x, den: node.den })));
        }
        case "add": {
            const parts = node.args.map(reduceMatrix);
            if (parts.some((p) => !Array.isArray(p))) return undefined;
            const ms = parts as Node[][][];
            const first = ms[0] as Node[][];
            if (ms.some((m) => m.length !== first.length || (m[0] as Node[]).length !== (first[0] as Node[]).length)) return undefined;
            return first.map((row, i) => row.map((_, j): Node => ({ t: "add", args: ms.map((m) => (m[i] as Node[])[j] as Node) })));
        }
        case "mul": {
            let acc: Node[][] | Node | undefined;
            for (const arg of node.args) {
                const r = isScalar(arg) ? arg : reduceMatrix(arg);
                if (r === undefined) return undefined;
                acc = acc === undefined ? r : multiply(acc, r);
                if (acc === undefined) return undefined;
            }
            return acc;
        }
        default:
            return isScalar(node) ? node : undefined;
    }
}

function multiply(a: Node[][] | Node, b: Node[][] | Node): Node[][] | Node | undefined {
    if (!Array.isArray(a) && !Array.isArray(b)) return { t: "mul", args: [a, b] };
    if (!Array.isArray(a)) return (b as Node[][]).map((row) => row.map((x): Node => ({ t: "mul", args: [a, x] })));
    if (!Array.isArray(b)) return a.map((row) => row.map((x): Node => ({ t: "mul", args: [x, b] })));
    const inner = (a[0] as Node[]).length;
    if (inner !== b.length) return undefined;
    const cols = (b[0] as Node[]).length;
    return a.map((row) =>
        Array.from({ length: cols }, (_, j): Node => ({ t: "add", args: row.map((x, k): Node => ({ t: "mul", args: [x, (b[k] as Node[])[j] as Node] })) })),
    );
}

// ---------------------------------------------------------------- relations

const FUNCTION_NAMES = new Set(["f", "g", "h", "p", "q", "r", "s", "F", "G", "H", "P", "Q", "R", "S", "y"]);

/** A left side that only names the answer: `x`, `a_1`, `f(x)`, `(p, q)`. */
function isNameLike(node: Node): boolean {
    if (node.t === "sym") return true;
    if (node.t === "mul" && node.args.length === 2) {
        const [f, arg] = node.args as [Node, Node];
        return f.t === "sym" && FUNCTION_NAMES.has(f.name) && (arg.t === "sym" || (arg.t === "seq" && arg.items.every((i) => i.t === "sym")));
    }
    if (node.t === "seq" && node.open === "(" && node.close === ")") return node.items.every((i) => i.t === "sym");
    return false;
}

/** Cuts `≈` tails, collapses `x = a = b` chains to `x = b`. */
function tidyRelation(node: Node & { t: "rel" }): Node & { t: "rel" } {
    let { ops, sides } = node;
    const approx = ops.indexOf("approx");
    if (approx === 0) {
        ops = ["=", ...ops.slice(1)].map((o) => (o === "approx" ? "=" : o)) as RelOp[];
        if (ops.some((o) => o !== "=")) return { t: "rel", ops, sides };
        return { t: "rel", ops: ["="], sides: [sides[0] as Node, sides[1] as Node] };
    }
    if (approx > 0) {
        ops = ops.slice(0, approx);
        sides = sides.slice(0, approx + 1);
    }
    if (ops.length >= 2 && ops.every((o) => o === "=") && isNameLike(sides[0] as Node)) {
        return { t: "rel", ops: ["="], sides: [sides[0] as Node, sides[sides.length - 1] as Node] };
    }
    return { t: "rel", ops, sides };
}

function isEquation(node: Node & { t: "rel" }): boolean {
    return node.ops.length === 1 && node.ops[0] === "=";
}

const INEQ = new Set<RelOp>(["<", "<=", ">", ">="]);
const FLIP: Record<string, RelOp> = { "<": ">", "<=": ">=", ">": "<", ">=": "<=" };

/** Orients a chain so that it reads with < / ≤ (flipping `5 ≥ x` to `x ≤ 5`). */
function orient(node: Node & { t: "rel" }): { ops: RelOp[]; sides: Node[] } | undefined {
    if (!node.ops.every((o) => INEQ.has(o))) return undefined;
    const up = node.ops.every((o) => o === "<" || o === "<=");
    const down = node.ops.every((o) => o === ">" || o === ">=");
    if (up) return { ops: node.ops, sides: node.sides };
    if (down) return { ops: [...node.ops].reverse().map((o) => FLIP[o] as RelOp), sides: [...node.sides].reverse() };
    return undefined;
}

const NEG_INF: Node = { t: "neg", arg: { t: "const", name: "inf" } };
const POS_INF: Node = { t: "const", name: "inf" };

/** A one-variable inequality with constant bounds as an interval: `-1 < x ≤ 4` → (-1, 4]. */
function asInterval(node: Node & { t: "rel" }): { variable: string; interval: Node } | undefined {
    const o = orient(node);
    if (o === undefined) return undefined;
    const { ops, sides } = o;
    const bracket = (op: RelOp, open: boolean): "(" | "[" | ")" | "]" => (op === "<" ? (open ? "(" : ")") : open ? "[" : "]");
    if (ops.length === 1) {
        const [l, r] = sides as [Node, Node];
        const op = ops[0] as RelOp;
        if (isNameLike(l) && !hasSymbols(r)) return { variable: key(l), interval: { t: "seq", open: "(", close: bracket(op, false) as ")" | "]", items: [NEG_INF, r] } };
        if (isNameLike(r) && !hasSymbols(l)) return { variable: key(r), interval: { t: "seq", open: bracket(op, true) as "(" | "[", close: ")", items: [l, POS_INF] } };
        return undefined;
    }
    if (ops.length === 2) {
        const [lo, v, hi] = sides as [Node, Node, Node];
        if (!isNameLike(v) || hasSymbols(lo) || hasSymbols(hi)) return undefined;
        return { variable: key(v), interval: { t: "seq", open: bracket(ops[0] as RelOp, true) as "(" | "[", close: bracket(ops[1] as RelOp, false) as ")" | "]", items: [lo, hi] } };
    }
    return undefined;
}

// ---------------------------------------------------------------- the comparison

export class Comparer {
    constructor(private readonly oracle: Oracle) {}

    /** Compares two analysed answers (gold first: a few rules are one-way). */
    answers(gold: Answer, pred: Answer): Tri {
        const g = gold.node;
        const p = pred.node;
        if (g.t === "text" || p.t === "text") return gold.text === pred.text && gold.text !== "";
        if (g.t === "choice" || p.t === "choice") {
            if (g.t !== "choice" || p.t !== "choice") return false;
            return g.letters.join(",") === p.letters.join(",");
        }
        if (g.t === "base" || p.t === "base") return this.base(g, p);
        return this.node(resolvePm(g), resolvePm(p));
    }

    private base(g: Node, p: Node): Tri {
        const digitsOf = (n: Node): { digits: string; base?: number } | undefined => {
            if (n.t === "base") return { digits: n.digits, base: n.base };
            if (n.t === "num" && n.dec !== true && n.v.d === 1n && n.v.n >= 0n) return { digits: n.v.n.toString() };
            return undefined;
        };
        const a = digitsOf(g);
        const b = digitsOf(p);
        if (a === undefined || b === undefined) return false;
        if (a.base !== undefined && b.base !== undefined && a.base !== b.base) return false;
        return a.digits === b.digits;
    }

    node(a: Node, b: Node): Tri {
        if (!(isScalar(a) && isScalar(b)) && key(a) === key(b)) return true;
        if (containsMatrix(a) || containsMatrix(b)) return this.matrix(a, b);
        if (a.t === "rel" || b.t === "rel") return this.relation(a, b);
        const aColl = a.t === "list" || a.t === "set";
        const bColl = b.t === "list" || b.t === "set";
        if (aColl && bColl) return this.unordered(a.items, b.items);
        if (aColl) return a.items.length === 1 ? this.node(a.items[0] as Node, b) : false;
        if (bColl) return b.items.length === 1 ? this.node(a, b.items[0] as Node) : false;
        if (a.t === "union" || b.t === "union") {
            const ap = a.t === "union" ? a.parts : [a];
            const bp = b.t === "union" ? b.parts : [b];
            return this.unordered(ap, bp);
        }
        if (a.t === "seq" || b.t === "seq") {
            if (a.t !== "seq" || b.t !== "seq") return false;
            if (a.open !== b.open || a.close !== b.close || a.items.length !== b.items.length) return false;
            let result: Tri = true;
            for (let i = 0; i < a.items.length && result !== false; i++) result = and(result, this.node(a.items[i] as Node, b.items[i] as Node));
            return result;
        }
        if (isScalar(a) && isScalar(b)) return this.scalar(a, b);
        return false;
    }

    private scalar(a: Node, b: Node): Tri {
        const leaf = (x: Node, y: Node): Tri => this.oracle({ kind: "expr", a: x, b: y, places: roundingPlaces(x, y) });
        const aPct = a.t === "pct";
        const bPct = b.t === "pct";
        if (aPct === bPct) return leaf(a, b);
        // Exactly one side carries %: X% = X/100, and X% = X (a dropped or added sign).
        const direct = leaf(a, b);
        if (direct === true) return true;
        return or(direct, leaf(aPct ? a.arg : a, bPct ? b.arg : b));
    }

    /** Set equality: every item on each side equals some item on the other (duplicates do not count). */
    private unordered(as: Node[], bs: Node[]): Tri {
        if (as.length > MAX_ITEMS || bs.length > MAX_ITEMS) return false;
        if ((as.length === 0) !== (bs.length === 0)) return false;
        const m: Tri[][] = as.map((x) => bs.map((y) => this.node(x, y)));
        const any = (row: Tri[]): Tri => row.reduce<Tri>((acc, v) => or(acc, v), false);
        let result: Tri = true;
        for (const row of m) result = and(result, any(row));
        for (let j = 0; j < bs.length && result !== false; j++) result = and(result, any(m.map((row) => row[j])));
        return result;
    }

    private matrix(a: Node, b: Node): Tri {
        const ma = reduceMatrix(a);
        const mb = reduceMatrix(b);
        if (!Array.isArray(ma) || !Array.isArray(mb)) return false;
        if (ma.length !== mb.length || (ma[0] as Node[]).length !== (mb[0] as Node[]).length) return false;
        let result: Tri = true;
        for (let i = 0; i < ma.length && result !== false; i++) {
            const ra = ma[i] as Node[];
            const rb = mb[i] as Node[];
            for (let j = 0; j < ra.length && result !== false; j++) result = and(result, this.node(ra[j] as Node, rb[j] as Node));
        }
        return result;
    }

    private relation(a0: Node, b0: Node): Tri {
        const a = a0.t === "rel" ? tidyRelation(a0) : a0;
        const b = b0.t === "rel" ? tidyRelation(b0) : b0;
        if (a.t === "rel" && b.t === "rel") return this.relations(a, b);
        if (a.t === "rel") {
            // Gold relation against a value: `x = 3` vs `3`; a gold inequality against an interval.
            if (isEquation(a) && isNameLike(a.sides[0] as Node)) return this.node(a.sides[1] as Node, b);
            const interval = asInterval(a);
            if (interval !== undefined && (b.t === "seq" || b.t === "union")) return this.node(interval.interval, b);
            return false;
        }
        if (b.t === "rel") {
            if (isEquation(b) && isNameLike(b.sides[0] as Node)) return this.node(a, b.sides[1] as Node);
            return false;
        }
        return false;
    }

    private relations(a: Node & { t: "rel" }, b: Node & { t: "rel" }): Tri {
        if (isEquation(a) && isEquation(b)) {
            const [al, ar] = a.sides as [Node, Node];
            const [bl, br] = b.sides as [Node, Node];
            if (isNameLike(al) && isNameLike(bl) && key(al) === key(bl)) return this.node(ar, br);
            if ([al, ar, bl, br].every(isScalar)) return this.oracle({ kind: "eqn", a: [al, ar], b: [bl, br] });
            return and(this.node(al, bl), this.node(ar, br));
        }
        if (a.ops.length === 1 && b.ops.length === 1 && a.ops[0] === "!=" && b.ops[0] === "!=") {
            const [al, ar] = a.sides as [Node, Node];
            const [bl, br] = b.sides as [Node, Node];
            return or(and(this.node(al, bl), this.node(ar, br)), and(this.node(al, br), this.node(ar, bl)));
        }
        const ia = asInterval(a);
        const ib = asInterval(b);
        if (ia !== undefined && ib !== undefined) {
            if (ia.variable !== ib.variable) return false;
            return this.node(ia.interval, ib.interval);
        }
        const oa = orient(a);
        const ob = orient(b);
        if (oa === undefined || ob === undefined) {
            // Chains of equalities that do not start with a name, or mixed chains: side by side.
            if (a.ops.join() !== b.ops.join() || a.sides.length !== b.sides.length) return false;
            let r: Tri = true;
            for (let i = 0; i < a.sides.length && r !== false; i++) r = and(r, this.node(a.sides[i] as Node, b.sides[i] as Node));
            return r;
        }
        if (oa.ops.join() !== ob.ops.join()) return false;
        let structural: Tri = true;
        for (let i = 0; i < oa.sides.length && structural !== false; i++) structural = and(structural, this.node(oa.sides[i] as Node, ob.sides[i] as Node));
        if (structural === true || oa.ops.length !== 1) return structural;
        const [al, ar] = oa.sides as [Node, Node];
        const [bl, br] = ob.sides as [Node, Node];
        if (![al, ar, bl, br].every(isScalar)) return structural;
        // Binary inequalities: rhs - lhs must be a positive multiple of the other's.
        const diff = (l: Node, r: Node): Node => ({ t: "add", args: [r, { t: "neg", arg: l }] });
        return or(structural, this.oracle({ kind: "ineq", a: diff(al, ar), b: diff(bl, br) }));
    }
}

