/**
 * Exact rational and Gaussian-rational arithmetic on BigInt. Values are always reduced, with a positive denominator.
 * Nothing here goes through JS doubles, so big integers and long decimals stay exact.
 */
export interface Rational {
    readonly n: bigint;
    readonly d: bigint;
}

/** A complex number with rational parts (exact values of numeric answers such as `3+4i`). */
export interface Complex {
    readonly re: Rational;
    readonly im: Rational;
}

/** Largest number of bits a numerator or denominator may grow to before the fast path gives up. */
export const MAX_BITS = 4096n;

function gcd(a: bigint, b: bigint): bigint {
    if (a < 0n) a = -a;
    if (b < 0n) b = -b;
    while (b !== 0n) [a, b] = [b, a % b];
    return a;
}

export function rat(n: bigint, d: bigint = 1n): Rational {
    if (d === 0n) throw new RangeError("zero denominator");
    if (d < 0n) {
        n = -n;
        d = -d;
    }
    const g = gcd(n, d);
    return g === 1n || g === 0n ? { n, d } : { n: n / g, d: d / g };
}

export const ZERO = rat(0n);
export const ONE = rat(1n);

export const add = (a: Rational, b: Rational): Rational => rat(a.n * b.d + b.n * a.d, a.d * b.d);
export const sub = (a: Rational, b: Rational): Rational => rat(a.n * b.d - b.n * a.d, a.d * b.d);
export const mul = (a: Rational, b: Rational): Rational => rat(a.n * b.n, a.d * b.d);
export const neg = (a: Rational): Rational => ({ n: -a.n, d: a.d });
export const isZero = (a: Rational): boolean => a.n === 0n;
export const eq = (a: Rational, b: Rational): boolean => a.n === b.n && a.d === b.d;
export const cmp = (a: Rational, b: Rational): number => {
    const l = a.n * b.d;
    const r = b.n * a.d;
    return l < r ? -1 : l > r ? 1 : 0;
};
export function div(a: Rational, b: Rational): Rational | undefined {
    if (b.n === 0n) return undefined;
    return rat(a.n * b.d, a.d * b.n);
}

function bitLength(x: bigint): bigint {
    if (x < 0n) x = -x;
    return BigInt(x.toString(2).length);
}

/** True when the value is too large to keep computing with cheaply. */
export function tooBig(a: Rational): boolean {
    return bitLength(a.n) > MAX_BITS || bitLength(a.d) > MAX_BITS;
}

/** a^k for an integer k, or undefined when the result would be huge or is 0^negative. */
export function powInt(a: Rational, k: bigint): Rational | undefined {
    if (k === 0n) return ONE;
    if (k < 0n) {
        if (a.n === 0n) return undefined;
        const p = powInt(a, -k);
        return p === undefined ? undefined : rat(p.d, p.n);
    }
    const smallN = a.n === 0n || a.n === 1n || a.n === -1n;
    if (!smallN && bitLength(a.n) * k > MAX_BITS) return undefined;
    if (a.d !== 1n && bitLength(a.d) * k > MAX_BITS) return undefined;
    if (smallN && a.d === 1n) return rat(k % 2n === 0n ? a.n * a.n : a.n);
    return rat(a.n ** k, a.d ** k);
}

/** Exact integer k-th root of a non-negative integer, or undefined when it is not a perfect power. */
export function intRoot(x: bigint, k: bigint): bigint | undefined {
    if (x < 0n || k <= 0n) return undefined;
    if (x < 2n) return x;
    if (k === 1n) return x;
    // Newton iteration on integers.
    const bits = bitLength(x);
    let r = 1n << (bits / k + 1n);
    for (;;) {
        const next = ((k - 1n) * r + x / r ** (k - 1n)) / k;
        if (next >= r) break;
        r = next;
    }
    while (r ** k > x) r -= 1n;
    while ((r + 1n) ** k <= x) r += 1n;
    return r ** k === x ? r : undefined;
}

/** The exact k-th root of a rational when it is rational (for negative values only odd k), else undefined. */
export function ratRoot(a: Rational, k: bigint): Rational | undefined {
    if (k <= 0n) return undefined;
    if (a.n < 0n) {
        if (k % 2n === 0n) return undefined;
        const r = ratRoot(neg(a), k);
        return r === undefined ? undefined : neg(r);
    }
    const n = intRoot(a.n, k);
    const d = intRoot(a.d, k);
    return n === undefined || d === undefined ? undefined : rat(n, d);
}

/** Parses a decimal literal such as "12.500", ".4" or "1000" exactly. */
export function parseDecimal(text: string): Rational | undefined {
    const m = /^(\d*)(?:\.(\d*))?$/.exec(text);
    if (!m || (m[1] === "" && (m[2] ?? "") === "")) return undefined;
    const whole = m[1] ?? "";
    const frac = m[2] ?? "";
    return rat(BigInt((whole || "0") + frac), 10n ** BigInt(frac.length));
}

/**
 * Rounds to `places` decimal places (negative places round to tens, hundreds…), half away from zero,
 * returning the rounded value as an integer count of 10^-places units.
 */
export function roundUnits(a: Rational, places: number): bigint {
    const scale = places >= 0 ? rat(10n ** BigInt(places)) : rat(1n, 10n ** BigInt(-places));
    const x = mul(a, scale);
    const negative = x.n < 0n;
    const absN = negative ? -x.n : x.n;
    const units = (2n * absN + x.d) / (2n * x.d);
    return negative ? -units : units;
}

export function toNumber(a: Rational): number {
    // Only for the float cross-check, never for exact decisions.
    const n = Number(a.n);
    const d = Number(a.d);
    if (Number.isFinite(n) && Number.isFinite(d)) return n / d;
    const shift = bitLength(a.n) - bitLength(a.d) - 52n;
    return shift > 0n ? Number(a.n / (a.d << shift)) * 2 ** Number(shift) : Number((a.n << -shift) / a.d) * 2 ** Number(shift);
}

// ---- Gaussian rationals ----
export const complex = (re: Rational, im: Rational = ZERO): Complex => ({ re, im });
export const cadd = (a: Complex, b: Complex): Complex => complex(add(a.re, b.re), add(a.im, b.im));
export const csub = (a: Complex, b: Complex): Complex => complex(sub(a.re, b.re), sub(a.im, b.im));
export const cneg = (a: Complex): Complex => complex(neg(a.re), neg(a.im));
export const cmul = (a: Complex, b: Complex): Complex =>
    complex(sub(mul(a.re, b.re), mul(a.im, b.im)), add(mul(a.re, b.im), mul(a.im, b.re)));
export const isReal = (a: Complex): boolean => a.im.n === 0n;
export const ceq = (a: Complex, b: Complex): boolean => eq(a.re, b.re) && eq(a.im, b.im);
export function cdiv(a: Complex, b: Complex): Complex | undefined {
    const den = add(mul(b.re, b.re), mul(b.im, b.im));
    if (den.n === 0n) return undefined;
    const num = cmul(a, complex(b.re, neg(b.im)));
    const re = div(num.re, den);
    const im = div(num.im, den);
    return re === undefined || im === undefined ? undefined : complex(re, im);
}
export function cpowInt(a: Complex, k: bigint): Complex | undefined {
    if (isReal(a)) {
        const r = powInt(a.re, k);
        return r === undefined ? undefined : complex(r);
    }
    if (k < 0n) {
        const p = cpowInt(a, -k);
        return p === undefined ? undefined : cdiv(complex(ONE), p);
    }
    if (k > 256n) return undefined;
    let result = complex(ONE);
    let base = a;
    let e = k;
    while (e > 0n) {
        if (e & 1n) result = cmul(result, base);
        e >>= 1n;
        if (e > 0n) base = cmul(base, base);
        if (tooBig(result.re) || tooBig(result.im) || tooBig(base.re) || tooBig(base.im)) return undefined;
    }
    return result;
}
