import { seededRandom } from "../util/index.js";
import { existsSync, readFileSync } from "node:fs";
import { loadDataset, type DatasetProblem } from "../data/index.js";
import type { EvolveConfig } from "./config.js";

/**
 * Which train problems a round searches (`problems.sample`): all; a window (the next `count` after the earlier
 * rounds' windows, so rounds see new problems); `count` at random (seeded per round); or the problems no earlier
 * round solved (no correct trajectory in any of its searches), at most `count`.
 */
export function sampleProblems(config: EvolveConfig, n: number, train: readonly DatasetProblem[], solvedEarlier: ReadonlySet<string>, searchedEarlier: ReadonlySet<string>): DatasetProblem[] {
    const { sample, count } = config.rounds[n - 1]?.problems ?? { sample: "all", count: null };
    const limit = count ?? train.length;
    switch (sample) {
        case "all":
            return train.slice(0, limit);
        case "window": {
            let offset = 0;
            for (let i = 0; i < n - 1; i += 1) offset += config.rounds[i]?.problems.count ?? 0;
            if (train.length === 0) return [];
            // Past the end, windows wrap around (a later round then revisits problems).
            const picked: DatasetProblem[] = [];
            for (let i = 0; i < Math.min(limit, train.length); i += 1) picked.push(train[(offset + i) % train.length] as DatasetProblem);
            return picked;
        }
        case "random": {
            const order = train.map((_, i) => i);
            const random = seededRandom(config.seed * 7919 + n);
            for (let i = order.length - 1; i > 0; i -= 1) {
                const j = Math.floor(random() * (i + 1));
                [order[i], order[j]] = [order[j] as number, order[i] as number];
            }
            return order.slice(0, limit).sort((a, b) => a - b).map((i) => train[i] as DatasetProblem);
        }
        case "unsolved":
            return train.filter((problem) => searchedEarlier.has(problem.question) && !solvedEarlier.has(problem.question)).slice(0, limit);
    }
}

/**
 * The train problems of round n's best-of-N sampling (ppm.policySamples): `problems` of them at random (seeded per
 * round, apart from the `random` sampling's seed), none whose question the round searches (`searched`: its
 * problems.jsonl), in file order. Fewer when the round searches almost every problem; none with sample "all".
 */
export function policySampleProblems(config: EvolveConfig, n: number, train: readonly DatasetProblem[], searched: ReadonlySet<string>): DatasetProblem[] {
    const count = config.rounds[n - 1]?.ppm.policySamples?.problems ?? 0;
    const order = train.map((_, i) => i).filter((i) => !searched.has((train[i] as DatasetProblem).question));
    const random = seededRandom(config.seed * 7919 + 104_729 + n);
    for (let i = order.length - 1; i > 0; i -= 1) {
        const j = Math.floor(random() * (i + 1));
        [order[i], order[j]] = [order[j] as number, order[i] as number];
    }
    return order.slice(0, count).sort((a, b) => a - b).map((i) => train[i] as DatasetProblem);
}

/** The questions of a problems file a stage wrote; none for an empty or missing one (a round with nothing to search). */
export async function questionsIn(path: string): Promise<Set<string>> {
    if (!existsSync(path) || readFileSync(path, "utf8").trim() === "") return new Set();
    return new Set((await loadDataset(path)).map((problem) => problem.question));
}

/** Questions searched in a run's results.jsonl, and those with a correct trajectory (pass_any). */
export function readOutcomes(resultsPath: string): { searched: Set<string>; solved: Set<string> } {
    const searched = new Set<string>();
    const solved = new Set<string>();
    if (!existsSync(resultsPath)) return { searched, solved };
    for (const line of readFileSync(resultsPath, "utf8").split("\n")) {
        if (line.trim() === "") continue;
        let record: { question?: unknown; pass_any?: unknown };
        try {
            record = JSON.parse(line) as typeof record;
        } catch {
            continue;
        }
        if (typeof record.question !== "string") continue;
        searched.add(record.question);
        if (record.pass_any === true) solved.add(record.question);
    }
    return { searched, solved };
}
