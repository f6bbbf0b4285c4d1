/**
 * Fast-path evaluation: exact values over Q(i) with BigInt rationals (never doubles), plus a float evaluation used
 * only to refute equality (a large difference is proof enough that two values differ; agreement never proves it).
 */
import type { Node } from "./ast.js";
import {
    ONE, ZERO, cadd, cdiv, ceq, cmp, cmul, cneg, complex, cpowInt, isReal, neg, rat, ratRoot, tooBig, toNumber,
    type Complex, type Rational,
} from "./rational.js";

export type Exact = { kind: "c"; v: Complex } | { kind: "inf"; sign: 1 | -1 };

const MAX_FACTORIAL = 2000n;

function c(v: Complex | undefined): Exact | undefined {
    if (v === undefined || tooBig(v.re) || tooBig(v.im)) return undefined;
    return { kind: "c", v };
}

function realInt(e: Exact | undefined): bigint | undefined {
    if (e?.kind !== "c" || !isReal(e.v) || e.v.re.d !== 1n) return undefined;
    return e.v.re.n;
}

function realRat(e: Exact | undefined): Rational | undefined {
    return e?.kind === "c" && isReal(e.v) ? e.v.re : undefined;
}

function sign(r: Rational): number {
    return r.n > 0n ? 1 : r.n < 0n ? -1 : 0;
}

/** The exact value of a scalar tree when it is a Gaussian rational (or ±∞), else undefined (needs the CAS). */
export function evalExact(node: Node): Exact | undefined {
    switch (node.t) {
        case "num":
            return { kind: "c", v: complex(node.v) };
        case "const":
            if (node.name === "i") return { kind: "c", v: complex(ZERO, ONE) };
            if (node.name === "inf") return { kind: "inf", sign: 1 };
            return undefined;
        case "sym":
            return undefined;
        case "neg": {
            const a = evalExact(node.arg);
            if (a === undefined) return undefined;
            return a.kind === "inf" ? { kind: "inf", sign: a.sign === 1 ? -1 : 1 } : { kind: "c", v: cneg(a.v) };
        }
        case "pct": {
            const a = evalExact(node.arg);
            return a?.kind === "c" ? c(cdiv(a.v, complex(rat(100n)))) : undefined;
        }
        case "add": {
            let acc = complex(ZERO);
            let inf: 1 | -1 | undefined;
            for (const arg of node.args) {
                const v = evalExact(arg);
                if (v === undefined) return undefined;
                if (v.kind === "inf") {
                    if (inf !== undefined && inf !== v.sign) return undefined;
                    inf = v.sign;
                } else acc = cadd(acc, v.v);
                if (tooBig(acc.re) || tooBig(acc.im)) return undefined;
            }
            return inf !== undefined ? { kind: "inf", sign: inf } : { kind: "c", v: acc };
        }
        case "mul": {
            let acc = complex(ONE);
            let inf: 1 | -1 | undefined;
            for (const arg of node.args) {
                const v = evalExact(arg);
                if (v === undefined) return undefined;
                if (v.kind === "inf") inf = ((inf ?? 1) * v.sign) as 1 | -1;
                else acc = cmul(acc, v.v);
                if (tooBig(acc.re) || tooBig(acc.im)) return undefined;
            }
            if (inf === undefined) return { kind: "c", v: acc };
            if (!isReal(acc) || acc.re.n === 0n) return undefined;
            return { kind: "inf", sign: (inf * sign(acc.re)) as 1 | -1 };
        }
        case "div": {
            const a = evalExact(node.num);
            const b = evalExact(node.den);
            if (a?.kind !== "c" || b?.kind !== "c") return undefined;
            return c(cdiv(a.v, b.v));
        }
        case "pow": {
            const base = evalExact(node.base);
            const exp = evalExact(node.exp);
            if (base?.kind !== "c" || exp?.kind !== "c" || !isReal(exp.v)) return undefined;
            const e = exp.v.re;
            if (e.d === 1n) {
                if (e.n > 100_000n || e.n < -100_000n) return undefined;
                return c(cpowInt(base.v, e.n));
            }
            // Rational exponent p/q of a non-negative real base with an exact root.
            if (!isReal(base.v) || base.v.re.n < 0n || e.d > 64n) return undefined;
            const root = ratRoot(base.v.re, e.d);
            if (root === undefined) return undefined;
            return c(cpowInt(complex(root), e.n));
        }
        case "root": {
            const arg = realRat(evalExact(node.arg));
            const k = realInt(evalExact(node.index));
            if (arg === undefined || k === undefined || k < 2n || k > 64n) return undefined;
            if (arg.n < 0n && k % 2n === 0n) return undefined;
            const r = ratRoot(arg, k);
            return r === undefined ? undefined : { kind: "c", v: complex(r) };
        }
        case "fn":
            return evalFunction(node.name, node.args);
        default:
            return undefined;
    }
}

function evalFunction(name: string, args: Node[]): Exact | undefined {
    const values = args.map(evalExact);
    const first = values[0];
    switch (name) {
        case "abs": {
            if (first?.kind === "inf") return { kind: "inf", sign: 1 };
            if (first?.kind !== "c") return undefined;
            if (isReal(first.v)) return { kind: "c", v: complex(first.v.re.n < 0n ? neg(first.v.re) : first.v.re) };
            const norm = cmul(first.v, complex(first.v.re, neg(first.v.im)));
            const r = ratRoot(norm.re, 2n);
            return r === undefined ? undefined : { kind: "c", v: complex(r) };
        }
        case "factorial": {
            const n = realInt(first);
            if (n === undefined || n < 0n || n > MAX_FACTORIAL) return undefined;
            let acc = 1n;
            for (let k = 2n; k <= n; k++) acc *= k;
            return { kind: "c", v: complex(rat(acc)) };
        }
        case "binom": {
            const n = realInt(first);
            const k = realInt(values[1]);
            if (n === undefined || k === undefined || n < 0n || n > MAX_FACTORIAL) return undefined;
            if (k < 0n || k > n) return { kind: "c", v: complex(ZERO) };
            let acc = 1n;
            for (let j = 1n; j <= k; j++) acc = (acc * (n - k + j)) / j;
            return { kind: "c", v: complex(rat(acc)) };
        }
        case "floor":
        case "ceil": {
            const r = realRat(first);
            if (r === undefined) return undefined;
            let q = r.n / r.d;
            if (r.n < 0n && q * r.d !== r.n && name === "floor") q -= 1n;
            if (r.n > 0n && q * r.d !== r.n && name === "ceil") q += 1n;
            return { kind: "c", v: complex(rat(q)) };
        }
        case "gcd":
        case "lcm": {
            const ints = values.map(realInt);
            if (ints.length < 2 || ints.some((v) => v === undefined)) return undefined;
            let acc = ints[0] as bigint;
            for (const v of ints.slice(1) as bigint[]) {
                const g = gcdBig(acc, v);
                acc = name === "gcd" ? g : g === 0n ? 0n : (acc / g) * v;
            }
            return { kind: "c", v: complex(rat(acc < 0n ? -acc : acc)) };
        }
        case "max":
        case "min": {
            const rs = values.map(realRat);
            if (rs.length === 0 || rs.some((v) => v === undefined)) return undefined;
            let best = rs[0] as Rational;
            for (const r of rs.slice(1) as Rational[]) if ((cmp(r, best) > 0) === (name === "max") && cmp(r, best) !== 0) best = r;
            return { kind: "c", v: complex(best) };
        }
        default:
            return undefined;
    }
}

function gcdBig(a: bigint, b: bigint): bigint {
    if (a < 0n) a = -a;
    if (b < 0n) b = -b;
    while (b !== 0n) [a, b] = [b, a % b];
    return a;
}

export function exactEqual(a: Exact, b: Exact): boolean {
    if (a.kind === "inf" || b.kind === "inf") return a.kind === b.kind && (a as { sign: number }).sign === (b as { sign: number }).sign;
    return ceq(a.v, b.v);
}

// ---------------- float evaluation (refutation only) ----------------

/** A complex double with the largest magnitude seen while computing it (a bound on rounding error). */
export interface FloatValue {
    re: number;
    im: number;
    mag: number;
}

const bad: FloatValue = { re: NaN, im: NaN, mag: Infinity };

function f(re: number, im: number, ...inputs: FloatValue[]): FloatValue {
    let mag = Math.max(Math.abs(re), Math.abs(im));
    for (const x of inputs) mag = Math.max(mag, x.mag);
    return Number.isFinite(re) && Number.isFinite(im) ? { re, im, mag } : bad;
}

/** Deterministic pseudo-random value in [0.35, 1.85) for a symbol at a test point. */
export function symbolValue(name: string, point: number): number {
    let h = 2166136261 ^ point;
    for (let j = 0; j < name.length; j++) h = Math.imul(h ^ name.charCodeAt(j), 16777619);
    h = Math.imul(h ^ (h >>> 15), 2246822507);
    h ^= h >>> 13;
    return 0.35 + ((h >>> 0) % 1_000_003) / 1_000_003 * 1.5;
}

export function evalFloat(node: Node, point: number): FloatValue {
    switch (node.t) {
        case "num":
            return f(toNumber(node.v), 0);
        case "const":
            if (node.name === "pi") return f(Math.PI, 0);
            if (node.name === "e") return f(Math.E, 0);
            if (node.name === "i") return f(0, 1);
            return bad;
        case "sym":
            return f(symbolValue(node.name, point), 0);
        case "neg": {
            const a = evalFloat(node.arg, point);
            return f(-a.re, -a.im, a);
        }
        case "pct": {
            const a = evalFloat(node.arg, point);
            return f(a.re / 100, a.im / 100, a);
        }
        case "add": {
            let re = 0;
            let im = 0;
            const parts: FloatValue[] = [];
            for (const arg of node.args) {
                const v = evalFloat(arg, point);
                re += v.re;
                im += v.im;
                parts.push(v);
            }
            return f(re, im, ...parts);
        }
        case "mul": {
            let re = 1;
            let im = 0;
            const parts: FloatValue[] = [];
            for (const arg of node.args) {
                const v = evalFloat(arg, point);
                [re, im] = [re * v.re - im * v.im, re * v.im + im * v.re];
                parts.push(v);
            }
            return f(re, im, ...parts);
        }
        case "div": {
            const a = evalFloat(node.num, point);
            const b = evalFloat(node.den, point);
            const den = b.re * b.re + b.im * b.im;
            if (!(den > 1e-200)) return bad;
            const r = f((a.re * b.re + a.im * b.im) / den, (a.im * b.re - a.re * b.im) / den, a, b);
            return { ...r, mag: Math.max(r.mag, a.mag / Math.sqrt(den)) };
        }
        case "pow": {
            const a = evalFloat(node.base, point);
            const e = evalFloat(node.exp, point);
            if (e.im !== 0 || Number.isNaN(e.re)) return bad;
            if (a.im === 0 && a.re > 0) return f(a.re ** e.re, 0, a, e);
            if (Number.isInteger(e.re) && Math.abs(e.re) <= 64) {
                let re = 1;
                let im = 0;
                for (let k = 0; k < Math.abs(e.re); k++) [re, im] = [re * a.re - im * a.im, re * a.im + im * a.re];
                if (e.re < 0) {
                    const den = re * re + im * im;
                    if (!(den > 1e-200)) return bad;
                    [re, im] = [re / den, -im / den];
                }
                return f(re, im, a);
            }
            return bad;
        }
        case "root": {
            const a = evalFloat(node.arg, point);
            const k = evalFloat(node.index, point);
            if (a.im !== 0 || k.im !== 0 || !(k.re >= 2)) return bad;
            if (a.re >= 0) return f(a.re ** (1 / k.re), 0, a);
            if (k.re === 2) return f(0, Math.sqrt(-a.re), a);
            if (Number.isInteger(k.re) && k.re % 2 === 1) return f(-((-a.re) ** (1 / k.re)), 0, a);
            return bad;
        }
        case "fn": {
            const args = node.args.map((x) => evalFloat(x, point));
            const x = args[0];
            if (x === undefined || args.some((v) => v.im !== 0 || Number.isNaN(v.re))) return bad;
            const r = x.re;
            const table: Partial<Record<string, number>> = {
                sin: Math.sin(r), cos: Math.cos(r), tan: Math.tan(r), cot: 1 / Math.tan(r), sec: 1 / Math.cos(r), csc: 1 / Math.sin(r),
                asin: Math.asin(r), acos: Math.acos(r), atan: Math.atan(r), acot: Math.atan(1 / r),
                sinh: Math.sinh(r), cosh: Math.cosh(r), tanh: Math.tanh(r), exp: Math.exp(r), abs: Math.abs(r),
                floor: Math.floor(r), ceil: Math.ceil(r),
            };
            if (node.name === "log") {
                const base = args[1];
                if (!(r > 0)) return bad;
                const v = base === undefined ? Math.log(r) : base.re > 0 && base.re !== 1 ? Math.log(r) / Math.log(base.re) : NaN;
                return f(v, 0, ...args);
            }
            const v = table[node.name];
            if (v === undefined) return bad;
            // Periodic and step functions amplify error in their argument; do not trust large arguments.
            if (Math.abs(r) > 1e6) return bad;
            if ((node.name === "floor" || node.name === "ceil") && Math.abs(r - Math.round(r)) < 1e-9) return bad;
            return f(v, 0, ...args);
        }
        default:
            return bad;
    }
}

/**
 * True when the two floats are certainly different values: the gap is far above any rounding error that
 * their computation could carry (relative to the largest intermediate magnitude) and above `minGap`.
 */
export function certainlyDifferent(a: FloatValue, b: FloatValue, minGap = 0): boolean {
    if (![a.re, a.im, b.re, b.im].every(Number.isFinite) || !Number.isFinite(a.mag) || !Number.isFinite(b.mag)) return false;
    const gap = Math.hypot(a.re - b.re, a.im - b.im);
    const noise = 1e-9 * (1 + Math.max(a.mag, b.mag));
    return gap > noise && gap > minGap && gap > 1e-7 * (1 + Math.max(a.mag, b.mag));
}
