import { createRandom } from "./random.js";
import { generateStory, MAX_DIFFICULTY, MAX_STEPS, MIN_DIFFICULTY } from "./generate.js";
import { referenceSolution } from "./solution.js";
import { storyText, type QuestionKind } from "./story.js";

export type SplitName = "train" | "test" | "ood";
export const SPLITS: readonly SplitName[] = ["train", "test", "ood"];

/** One problem as written to a dataset file (the benchmark format: `question` and `answer`, plus metadata). */
export interface SynthProblem {
    id: string;
    question: string;
    /** The integer answer, as a string (as benchmark files store answers). */
    answer: string;
    /** Code steps of the reference solution, the print step not counted. */
    steps: number;
    split: SplitName;
    difficulty: number;
    /** The question form ("now", "worth", "more-than", ...). */
    kind: QuestionKind;
    /** Distractor sentences in the question. */
    distractors: number;
    /** The reference solution in the rStar step format (appended to `sftPrompt(question)` for SFT). */
    solution: string;
}

export interface DatasetOptions {
    seed: number;
    train: number;
    test: number;
    ood: number;
    /** 1 (easy) to 5 (hard). Defaults to 3. */
    difficulty?: number;
    /** Inclusive step range of train and test. Defaults to [2, 6]. */
    inDistributionSteps?: readonly [number, number];
    /**
     * Inclusive step range of the train split alone. Defaults to `inDistributionSteps`. It may reach into the ood range
     * (as a real training pool spans every difficulty): ood stays held out by question, never by length alone.
     */
    trainSteps?: readonly [number, number];
    /** Inclusive step range of the out-of-distribution split; must lie above the in-distribution range. Defaults to [7, 8]. */
    oodSteps?: readonly [number, number];
    /** Allow distractor sentences. Defaults to true. */
    distractors?: boolean;
}

export type SynthDataset = Record<SplitName, SynthProblem[]>;

export const DEFAULT_IN_DISTRIBUTION_STEPS: readonly [number, number] = [2, 6];
export const DEFAULT_OOD_STEPS: readonly [number, number] = [7, 8];

/**
 * Generates the three splits. Deterministic: the same options give byte-identical problems. Every question is unique
 * across all splits (so train and test share none); the ood split has more steps than train ever shows.
 * Problem i of a split depends only on (seed, split, i, options), so asking for more problems keeps the first ones.
 */
export function generateDataset(options: DatasetOptions): SynthDataset {
    const difficulty = options.difficulty ?? 3;
    const inRange = options.inDistributionSteps ?? DEFAULT_IN_DISTRIBUTION_STEPS;
    const oodRange = options.oodSteps ?? DEFAULT_OOD_STEPS;
    const trainRange = options.trainSteps ?? inRange;
    validateOptions(options, difficulty, inRange, oodRange, trainRange);
    const seen = new Set<string>();
    const dataset: SynthDataset = { train: [], test: [], ood: [] };
    for (const split of SPLITS) {
        const [low, high] = split === "ood" ? oodRange : split === "train" ? trainRange : inRange;
        for (let index = 0; index < options[split]; index += 1) {
            dataset[split].push(generateProblem({ seed: options.seed, split, index, difficulty, low, high, seen, distractors: options.distractors !== false }));
        }
    }
    return dataset;
}

function generateProblem(args: { seed: number; split: SplitName; index: number; difficulty: number; low: number; high: number; seen: Set<string>; distractors: boolean }): SynthProblem {
    const { seed, split, index, difficulty, low, high, seen } = args;
    for (let attempt = 0; attempt < 1000; attempt += 1) {
        const random = createRandom(`${seed}|${split}|${index}|${attempt}`);
        // harder levels lean towards the long end of the range
        const tilt = (difficulty - 3) * 0.35;
        const steps = random.weighted(Array.from({ length: high - low + 1 }, (_, i) => [low + i, Math.exp(tilt * (i - (high - low) / 2))] as const));
        const { story, plan, distractors } = generateStory(random, { steps, difficulty, distractors: args.distractors });
        const question = storyText(story);
        if (seen.has(question)) continue;
        seen.add(question);
        return {
            id: `synth-${split}-${String(index + 1).padStart(5, "0")}`,
            question,
            answer: String(plan.answer),
            steps,
            split,
            difficulty,
            kind: story.question.kind,
            distractors,
            solution: referenceSolution(plan),
        };
    }
    throw new Error(`could not find a new question for ${split} problem ${index + 1}`);
}

function validateOptions(options: DatasetOptions, difficulty: number, inRange: readonly [number, number], oodRange: readonly [number, number], trainRange: readonly [number, number]): void {
    const problems: string[] = [];
    if (!Number.isInteger(options.seed)) problems.push(`seed must be an integer, got ${options.seed}`);
    for (const split of SPLITS) if (!Number.isInteger(options[split]) || options[split] < 0) problems.push(`${split} must be a count >= 0, got ${options[split]}`);
    if (!Number.isInteger(difficulty) || difficulty < MIN_DIFFICULTY || difficulty > MAX_DIFFICULTY) problems.push(`difficulty must be an integer in ${MIN_DIFFICULTY}..${MAX_DIFFICULTY}, got ${difficulty}`);
    const okRange = ([a, b]: readonly [number, number]) => Number.isInteger(a) && Number.isInteger(b) && a >= 2 && a <= b && b <= MAX_STEPS;
    if (!okRange(inRange)) problems.push(`in-distribution steps must be a range within 2..${MAX_STEPS}, got ${inRange.join("-")}`);
    if (!okRange(oodRange)) problems.push(`ood steps must be a range within 2..${MAX_STEPS}, got ${oodRange.join("-")}`);
    if (!okRange(trainRange)) problems.push(`train steps must be a range within 2..${MAX_STEPS}, got ${trainRange.join("-")}`);
    if (oodRange[0] <= inRange[1]) problems.push(`ood steps (${oodRange.join("-")}) must all be above the in-distribution steps (${inRange.join("-")})`);
    if (problems.length > 0) throw new RangeError(problems.join("; "));
}
