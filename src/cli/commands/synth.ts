import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Command } from "commander";
import { loadDataset } from "../../data/index.js";
import { RstarError } from "../../errors/index.js";
import { DEFAULT_IN_DISTRIBUTION_STEPS, DEFAULT_OOD_STEPS, MAX_DIFFICULTY, MIN_DIFFICULTY, generateDataset, misreadDataset, writeDataset, type DatasetOptions } from "../../synth/index.js";
import { ExitCode, type ExitCodeValue } from "../exit-codes.js";
import { action } from "../run-command.js";

interface GenerateFlags {
    out: string;
    seed: number;
    train: number;
    test: number;
    ood: number;
    difficulty: number;
    format: string;
    steps?: [number, number];
    oodSteps?: [number, number];
    trainSteps?: [number, number];
    distractors: boolean;
}

export function register(program: Command): void {
    const synth = program.command("synth").description("synthetic arithmetic word problems with reference solutions, for offline training and tests");
    synth
        .command("generate")
        .description("write train / test / ood splits, their reference solutions as SFT data, and a manifest")
        .requiredOption("--out <dir>", "output directory (created if missing; files in it are overwritten)")
        .option("--seed <n>", "seed: the same seed and options give byte-identical files", integer("--seed"), 0)
        .option("--train <n>", "problems in the train split", count("--train"), 1000)
        .option("--test <n>", "problems in the test split", count("--test"), 200)
        .option("--ood <n>", "problems in the out-of-distribution split (more steps than --steps)", count("--ood"), 200)
        .option("--difficulty <d>", `${MIN_DIFFICULTY} (small numbers, few distractors) to ${MAX_DIFFICULTY} (large numbers, many distractors)`, integer("--difficulty"), 3)
        .option("--format <format>", "json (an array, one record per line) or jsonl", "jsonl")
        .option("--steps <a-b>", `solution steps of train and test (default ${DEFAULT_IN_DISTRIBUTION_STEPS.join("-")})`, stepRange("--steps"))
        .option("--ood-steps <a-b>", `solution steps of ood, all above --steps (default ${DEFAULT_OOD_STEPS.join("-")})`, stepRange("--ood-steps"))
        .option("--train-steps <a-b>", "solution steps of train alone (default: --steps); may overlap --ood-steps, since ood stays held out by question", stepRange("--train-steps"))
        .option("--no-distractors", "leave out sentences with irrelevant numbers")
        .addHelpText(
            "after",
            `
Files: train.<format>, test.<format>, ood.<format> (records {id, question, answer, steps, split, difficulty, kind,
distractors, solution}), sft-train.jsonl ({query, response}: the prompt is sftPrompt(query), the reference solution
is the response), manifest.json. No two splits share a question.

Example:
  rstar synth generate --out data/synth --seed 1 --train 2000 --test 300 --ood 300

Exit codes: 0 ok; 2 bad usage; 70 internal error. See docs/synthetic-domain.md.`,
        )
        .action(action("synth generate", (flags: GenerateFlags) => generate(flags)));
    synth
        .command("misreads")
        .description("write PPM pretraining pairs that teach one check: a question number misread as another")
        .requiredOption("--data <file>", "synthetic problems (JSON or JSONL with question and answer, e.g. train.jsonl from `synth generate`)")
        .requiredOption("--out <dir>", "output directory (created if missing; files in it are overwritten)")
        .option("--seed <n>", "seed: the same seed and data give byte-identical files", integer("--seed"), 0)
        .option("--held-out <n>", "keep the pairs of the first n problems apart, as problem-disjoint held-out pairs", count("--held-out"), 0)
        .option("--keep-comment <p>", "share of misread steps whose comment keeps the right number", probability("--keep-comment"), 0.1)
        .addHelpText(
            "after",
            `
Each pair is the reference solution's next step against the same step with one question number read as a number that
is not in the question, comment and code alike ({prompt, pos, neg, pos_count, neg_count}, as \`rstar extract ppm\`
writes); and, once per problem, the whole reference solution against one with such a step, its output and boxed
answer recomputed. The two sides word their comments independently, so only the number tells them apart.

Files: steps.jsonl, solutions.jsonl, heldout-steps.jsonl, heldout-solutions.jsonl, manifest.json (counts).
Train a PPM on them first, then on the policy's own pairs (\`rstar train ppm --base PPM_DIR\`): docs/evolve.md,
"Misreadings made on purpose".

Example:
  rstar synth generate --out data/synth --seed 5 --train 14000 --test 10 --ood 10
  rstar synth misreads --data data/synth/train.jsonl --out data/misreads --held-out 600

Exit codes: 0 ok; 2 bad usage or data (a bad record names its file, line and field); 70 internal error.`,
        )
        .action(action("synth misreads", (flags: MisreadFlags) => misreads(flags)));
}

interface MisreadFlags {
    data: string;
    out: string;
    seed: number;
    heldOut: number;
    keepComment: number;
}

async function misreads(flags: MisreadFlags): Promise<ExitCodeValue> {
    const problems = await loadDataset(flags.data, { requireAnswers: true });
    const made = misreadDataset(
        problems.map((problem) => ({ question: problem.question, answer: String(Array.isArray(problem.answer) ? problem.answer[0] : problem.answer) })),
        { seed: flags.seed, heldOut: flags.heldOut, keepComment: flags.keepComment },
    );
    if (made.train.problems + made.heldOut.problems === 0) throw new RstarError("INVALID_INPUT", `no problem in ${flags.data} is a synthetic problem this domain reads (rstar synth generate writes them)`);
    await mkdir(flags.out, { recursive: true });
    const lines = (records: readonly object[]) => records.map((r) => JSON.stringify(r) + "\n").join("");
    const files = {
        steps: join(flags.out, "steps.jsonl"),
        solutions: join(flags.out, "solutions.jsonl"),
        heldOutSteps: join(flags.out, "heldout-steps.jsonl"),
        heldOutSolutions: join(flags.out, "heldout-solutions.jsonl"),
        manifest: join(flags.out, "manifest.json"),
    };
    await writeFile(files.steps, lines(made.train.steps), "utf8");
    await writeFile(files.solutions, lines(made.train.solutions), "utf8");
    await writeFile(files.heldOutSteps, lines(made.heldOut.steps), "utf8");
    await writeFile(files.heldOutSolutions, lines(made.heldOut.solutions), "utf8");
    const counts = {
        problems: problems.length,
        skipped: made.skipped,
        train: { problems: made.train.problems, steps: made.train.steps.length, solutions: made.train.solutions.length },
        heldOut: { problems: made.heldOut.problems, steps: made.heldOut.steps.length, solutions: made.heldOut.solutions.length },
    };
    await writeFile(files.manifest, JSON.stringify({ data: flags.data, seed: flags.seed, keepComment: flags.keepComment, counts }, null, 2) + "\n", "utf8");
    process.stderr.write(
        `wrote ${counts.train.steps} step and ${counts.train.solutions} solution pairs (${counts.train.problems} problems), held out ${counts.heldOut.steps} and ${counts.heldOut.solutions} (${counts.heldOut.problems}); skipped ${counts.skipped} problems to ${flags.out}\n`,
    );
    process.stdout.write(JSON.stringify({ files, counts }) + "\n");
    return ExitCode.ok;
}

async function generate(flags: GenerateFlags): Promise<ExitCodeValue> {
    if (flags.format !== "json" && flags.format !== "jsonl") throw new RstarError("INVALID_ARGUMENT", `--format must be json or jsonl, got "${flags.format}"`);
    const options: DatasetOptions = {
        seed: flags.seed,
        train: flags.train,
        test: flags.test,
        ood: flags.ood,
        difficulty: flags.difficulty,
        distractors: flags.distractors,
        ...(flags.steps === undefined ? {} : { inDistributionSteps: flags.steps }),
        ...(flags.oodSteps === undefined ? {} : { oodSteps: flags.oodSteps }),
        ...(flags.trainSteps === undefined ? {} : { trainSteps: flags.trainSteps }),
    };
    let dataset;
    try {
        dataset = generateDataset(options);
    } catch (error) {
        if (error instanceof RangeError) throw new RstarError("INVALID_ARGUMENT", error.message);
        throw error;
    }
    const written = await writeDataset(flags.out, dataset, options, flags.format);
    const { counts, files } = written;
    process.stderr.write(`wrote ${counts.train} train, ${counts.test} test, ${counts.ood} ood problems and ${counts.train} reference solutions to ${flags.out}\n`);
    process.stdout.write(JSON.stringify({ files, counts }) + "\n");
    return ExitCode.ok;
}

function integer(flag: string): (value: string) => number {
    return (value) => {
        const parsed = Number(value);
        if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(parsed)) throw new RstarError("INVALID_ARGUMENT", `${flag} must be an integer, got "${value}"`);
        return parsed;
    };
}

function count(flag: string): (value: string) => number {
    return (value) => {
        const parsed = integer(flag)(value);
        if (parsed < 0) throw new RstarError("INVALID_ARGUMENT", `${flag} must be 0 or more, got "${value}"`);
        return parsed;
    };
}

function probability(flag: string): (value: string) => number {
    return (value) => {
        const parsed = Number(value);
        if (value.trim() === "" || !Number.isFinite(parsed) || parsed < 0 || parsed > 1) throw new RstarError("INVALID_ARGUMENT", `${flag} must be a number from 0 to 1, got "${value}"`);
        return parsed;
    };
}

function stepRange(flag: string): (value: string) => [number, number] {
    return (value) => {
        const match = /^(\d+)(?:-(\d+))?$/.exec(value.trim());
        if (match === null) throw new RstarError("INVALID_ARGUMENT", `${flag} must be a number or a range like 2-6, got "${value}"`);
        const low = Number(match[1]);
        return [low, match[2] === undefined ? low : Number(match[2])];
    };
}
