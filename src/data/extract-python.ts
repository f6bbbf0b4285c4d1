/**
 * Small pieces of Python semantics that the official rStar extraction scripts rely on, so that our selection gives
 * the same records on the same trees (see docs/extraction.md).
 */

/** Characters Python's `str.isspace()` accepts (what `str.strip()` removes); differs from JS `trim()` in \x1c-\x1f, \x85 and \ufeff. */
const PY_SPACE = "\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const PY_STRIP = new RegExp(`^[${PY_SPACE}]+|[${PY_SPACE}]+$`, "g");

/** Python `str.strip()` with no argument. */
export function pyStrip(text: string): string {
    return text.replace(PY_STRIP, "");
}

/**
 * Python 3.11 `sum()` over floats: plain left-to-right addition (the official code asks for Python 3.11; 3.12 switched
 * to compensated summation, which can differ in the last bit).
 */
export function pySum(values: readonly number[]): number {
    let total = 0;
    for (const value of values) total += value;
    return total;
}

/**
 * Levenshtein distance over Unicode code points (insert, delete and substitute each cost 1), as the `editdistance`
 * package computes it on Python strings. Linear memory; the common prefix and suffix are skipped first.
 */
export function editDistance(a: string, b: string): number {
    let x = Array.from(a, (ch) => ch.codePointAt(0) as number);
    let y = Array.from(b, (ch) => ch.codePointAt(0) as number);
    let start = 0;
    while (start < x.length && start < y.length && x[start] === y[start]) start += 1;
    let endX = x.length;
    let endY = y.length;
    while (endX > start && endY > start && x[endX - 1] === y[endY - 1]) {
        endX -= 1;
        endY -= 1;
    }
    x = x.slice(start, endX);
    y = y.slice(start, endY);
    if (x.length < y.length) [x, y] = [y, x];
    if (y.length === 0) return x.length;
    let previous = new Uint32Array(y.length + 1);
    let current = new Uint32Array(y.length + 1);
    for (let j = 0; j <= y.length; j += 1) previous[j] = j;
    for (let i = 1; i <= x.length; i += 1) {
        current[0] = i;
        const xi = x[i - 1];
        for (let j = 1; j <= y.length; j += 1) {
            const substitute = (previous[j - 1] as number) + (xi === y[j - 1] ? 0 : 1);
            const remove = (previous[j] as number) + 1;
            const insert = (current[j - 1] as number) + 1;
            current[j] = Math.min(substitute, remove, insert);
        }
        [previous, current] = [current, previous];
    }
    return previous[y.length] as number;
}

/** Python's `sorted(items, key=..., reverse=...)`: stable, and `reverse` keeps equal items in their original order. */
export function pySorted<T>(items: readonly T[], compare: (a: T, b: T) => number, reverse = false): T[] {
    return reverse ? [...items].sort((a, b) => compare(b, a)) : [...items].sort(compare);
}

/** Ascending comparison of numbers, or of tuples of numbers compared element by element (Python tuple order). */
export function compareNumbers(a: number, b: number): number {
    return a < b ? -1 : a > b ? 1 : 0;
}
