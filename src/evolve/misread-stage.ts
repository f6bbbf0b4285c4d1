import { createRandom, generateDataset, misreadDataset } from "../synth/index.js";
import type { EvolveConfig, RoundConfig } from "./config.js";
import { questionsIn } from "./sample.js";
import { misreadProblemOptions, type EvolvePaths } from "./stages.js";
import { writeTextAtomic } from "./state.js";

export interface MisreadStageSummary {
    problems: number;
    /** Generated problems left out because their question is in test or ood. */
    excluded: number;
    pairs: number;
    stepPairs: number;
    solutionPairs: number;
    heldOutProblems: number;
    heldOutPairs: number;
}

/**
 * The misread-pairs stage of round n (ppm.misreadPretrain): generates its synthetic problems, drops any whose question
 * is in test or ood, and writes the training pairs (shuffled, step pairs capped at maxStepPairs) and the held-out
 * pairs of the first `heldOut` problems. Deterministic, so a resumed stage writes the same files.
 */
export async function writeMisreadPairs(config: EvolveConfig, n: number, paths: EvolvePaths): Promise<MisreadStageSummary> {
    const round = config.rounds[n - 1] as RoundConfig;
    const pretrain = round.ppm.misreadPretrain;
    const options = misreadProblemOptions(config, n);
    if (pretrain === null || pretrain === undefined) throw new Error(`round ${n} has no ppm.misreadPretrain`);
    const heldOutQuestions = new Set<string>();
    for (const split of [paths.data.test, paths.data.ood]) if (split !== null) for (const question of await questionsIn(split)) heldOutQuestions.add(question);
    const generated = generateDataset(options).train;
    const kept = generated.filter((problem) => !heldOutQuestions.has(problem.question));
    const made = misreadDataset(kept, { seed: options.seed, heldOut: pretrain.heldOut });
    const random = createRandom(`${options.seed}|misread-mix`);
    const steps = pretrain.maxStepPairs === null ? made.train.steps : random.shuffle(made.train.steps).slice(0, pretrain.maxStepPairs);
    const pairs = random.shuffle([...steps, ...made.train.solutions]);
    const heldOut = [...made.heldOut.steps, ...made.heldOut.solutions];
    const rp = paths.round(n);
    const lines = (records: readonly object[]) => records.map((record) => JSON.stringify(record) + "\n").join("");
    writeTextAtomic(rp.misreadPairs, lines(pairs));
    writeTextAtomic(rp.misreadHeldOut, lines(heldOut));
    return {
        problems: kept.length,
        excluded: generated.length - kept.length,
        pairs: pairs.length,
        stepPairs: steps.length,
        solutionPairs: made.train.solutions.length,
        heldOutProblems: made.heldOut.problems,
        heldOutPairs: heldOut.length,
    };
}
