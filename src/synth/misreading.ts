import { literals, type Expression } from "./expression.js";
import type { Random } from "./random.js";

/*
 * Misreadings: a number of the question read as another. Shared by the noisy teacher (its wrongNumber mistakes) and
 * the misread-pair generator (PPM pretraining data), so both model the tiny policies' own misreadings.
 */

/**
 * The number a misreading puts in place of `n`, distributed as the tiny policies' own misreadings are: on 124 of
 * their step pairs whose wrong step only changes a number (MCTS on 600 problems, seed 7) about 2 in 10 were off by 1
 * or 2 and 1 in 10 by ten; the rest were another number altogether, some with the digits swapped (85 -> 58). A
 * teacher that only nudges by 1, 2 or 10 teaches a reward model to spot nudges, which the policy rarely makes.
 */
export function misreadNumber(n: number, random: Random): number {
    const u = random.next();
    let changed: number;
    if (u < 0.2) changed = n + random.pick([-2, -1, 1, 2]);
    else if (u < 0.3) changed = n + random.pick([-10, 10]);
    else if (u < 0.45 && n >= 10 && n < 100 && n % 11 !== 0 && n % 10 !== 0) changed = (n % 10) * 10 + Math.floor(n / 10);
    else changed = random.int(Math.max(1, Math.floor(n / 2)), Math.max(n * 2, n + 20));
    return changed >= 1 && changed !== n ? changed : n + 1;
}

/** A misreading of `n` that is none of `avoid` (the question's own numbers), or null when 50 draws all were. */
export function misreadNumberOutside(n: number, random: Random, avoid: ReadonlySet<number>): number | null {
    for (let attempt = 0; attempt < 50; attempt += 1) {
        const changed = misreadNumber(n, random);
        if (!avoid.has(changed)) return changed;
    }
    return null;
}

/**
 * A number mistake is a misreading: the comment restates the question with the wrong number, as the code uses it.
 * (A comment that keeps the right number next to code that uses another would be a mistake a reward model spots from
 * the step alone; the tiny policies trained here misread the question, so the comment and the code agree.)
 */
export function misreadComment(comment: string, intended: Expression, written: Expression): string {
    const before = literals(intended);
    const after = literals(written);
    if (before.length !== after.length) return comment;
    let text = comment;
    before.forEach((old, i) => {
        const now = after[i] as number;
        if (now !== old) text = text.replace(new RegExp(`(?<![\\d.])${old}(?![\\d])`, "g"), String(now));
    });
    return text;
}
