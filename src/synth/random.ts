/**
 * A small seeded PRNG (FNV-1a hash of a string key, then mulberry32): the same key gives the same stream on every
 * platform and Node version, which keeps generated datasets and teacher samples byte-identical across machines.
 */
import { seededRandom } from "../util/index.js";

export interface Random {
    /** Uniform in [0, 1). */
    next(): number;
    /** Uniform integer in [min, max], both inclusive. */
    int(min: number, max: number): number;
    /** True with probability `p`. */
    chance(p: number): boolean;
    /** One element, uniformly. The list must not be empty. */
    pick<T>(items: readonly T[]): T;
    /** One element with probability proportional to its weight. */
    weighted<T>(items: readonly (readonly [T, number])[]): T;
    /** A shuffled copy. */
    shuffle<T>(items: readonly T[]): T[];
}

/** 32-bit FNV-1a of the UTF-16 code units of `key`. */
export function hashString(key: string): number {
    let hash = 0x811c9dc5;
    for (let i = 0; i < key.length; i += 1) {
        hash ^= key.charCodeAt(i);
        hash = Math.imul(hash, 0x01000193) >>> 0;
    }
    return hash;
}

/** A PRNG seeded by a string key (use `${seed}|${purpose}|${index}` style keys). */
export function createRandom(key: string): Random {
    const next = seededRandom(hashString(key));
    const int = (min: number, max: number): number => min + Math.floor(next() * (max - min + 1));
    return {
        next,
        int,
        chance: (p) => next() < p,
        pick: <T>(items: readonly T[]): T => {
            if (items.length === 0) throw new Error("pick from an empty list");
            return items[int(0, items.length - 1)] as T;
        },
        weighted: <T>(items: readonly (readonly [T, number])[]): T => {
            const total = items.reduce((sum, [, weight]) => sum + weight, 0);
            let u = next() * total;
            for (const [item, weight] of items) {
                if (u < weight) return item;
                u -= weight;
            }
            const last = items[items.length - 1];
            if (last === undefined) throw new Error("weighted pick from an empty list");
            return last[0];
        },
        shuffle: <T>(items: readonly T[]): T[] => {
            const copy = [...items];
            for (let i = copy.length - 1; i > 0; i -= 1) {
                const j = int(0, i);
                [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
            }
            return copy;
        },
    };
}
