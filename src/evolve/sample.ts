import { seededRandom } from "../util/index.js";
import { RstarError } from "../errors/index.js";
import { existsSync, readFileSync } from "node:fs";
import { loadDataset, type DatasetProblem } from "../data/index.js";
import { parseStepRange, type EvolveConfig } from "./config.js";

/**
 * Which train problems a round searches (`problems.sample`), among those whose `steps` lie in `problems.steps` when it
 * is set (a curriculum: short problems first, longer ones later): all; a window (the `count` problems earlier rounds'
 * windows took least often, in file order, so rounds see new problems and wrap around once every one was taken);
 * `count` at random (seeded per round); or the problems no earlier round solved (no correct trajectory in any of its
 * searches), at most `count`.
 */
export function sampleProblems(config: EvolveConfig, n: number, train: readonly DatasetProblem[], solvedEarlier: ReadonlySet<string>, searchedEarlier: ReadonlySet<string>): DatasetProblem[] {
    const { sample, count } = config.rounds[n - 1]?.problems ?? { sample: "all", count: null };
    const eligible = eligibleProblems(config, n, train);
    const limit = count ?? eligible.length;
    switch (sample) {
        case "all":
            return eligible.slice(0, limit);
        case "window":
            return windowOf(config, n, train).map((i) => train[i] as DatasetProblem);
        case "random": {
            const order = eligible.map((_, i) => i);
            const random = seededRandom(config.seed * 7919 + n);
            for (let i = order.length - 1; i > 0; i -= 1) {
                const j = Math.floor(random() * (i + 1));
                [order[i], order[j]] = [order[j] as number, order[i] as number];
            }
            return order.slice(0, limit).sort((a, b) => a - b).map((i) => eligible[i] as DatasetProblem);
        }
        case "unsolved":
            return eligible.filter((problem) => searchedEarlier.has(problem.question) && !solvedEarlier.has(problem.question)).slice(0, limit);
    }
}

/** The train problems round n may search: those whose `steps` field lies in its `problems.steps` range (all without one). */
function eligibleProblems(config: EvolveConfig, n: number, train: readonly DatasetProblem[]): DatasetProblem[] {
    const range = config.rounds[n - 1]?.problems.steps;
    if (range === undefined) return [...train];
    const [low, high] = parseStepRange(range);
    return train.filter((problem) => {
        const steps = problem.record["steps"];
        if (typeof steps !== "number" || !Number.isInteger(steps)) {
            throw new RstarError("INVALID_INPUT", `train problems, line ${problem.line}: field "steps" is ${steps === undefined ? "missing" : `not an integer (${JSON.stringify(steps)})`}, and rounds.${n - 1}.problems.steps (${range}) selects problems by it`);
        }
        return steps >= low && steps <= high;
    });
}

/**
 * Round n's window, as positions in `train`: of its eligible problems, the `count` that earlier rounds' windows took
 * least often, ties in file order. With one eligible set for every round this is the next `count` after the earlier
 * windows, wrapping past the end; with `problems.steps` ranges, each round still takes problems no earlier window took
 * while there are any. The windows are replayed from round 1, so the choice depends on the config and the file only.
 */
function windowOf(config: EvolveConfig, n: number, train: readonly DatasetProblem[]): number[] {
    const taken = new Map<number, number>();
    let picked: number[] = [];
    for (let round = 1; round <= n; round += 1) {
        const problems = config.rounds[round - 1]?.problems;
        if (problems?.sample !== "window") continue;
        const eligible = eligibleProblems(config, round, train).map((problem) => problem.position);
        picked = eligible
            .map((position, order) => ({ position, order, times: taken.get(position) ?? 0 }))
            .sort((a, b) => a.times - b.times || a.order - b.order)
            .slice(0, Math.min(problems.count ?? eligible.length, eligible.length))
            .map((entry) => entry.position);
        for (const position of picked) taken.set(position, (taken.get(position) ?? 0) + 1);
    }
    return picked;
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
