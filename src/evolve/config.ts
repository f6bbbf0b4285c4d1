import { readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { z } from "zod";
import { InputError, RstarError } from "../errors/index.js";
import { isPlainObject, parseJson } from "../util/index.js";
import { TEACHER_ERROR_KINDS, scaleErrorRates, type TeacherErrorKind } from "../synth/index.js";

/**
 * The self-evolution config (`rstar evolve --config FILE`). Every setting has a default from the paper or the official
 * configs (the source is in each field's comment and in docs/evolve.md); a config file only names what it changes.
 * Files and folders in it resolve against the config file's folder.
 */

/** Placeholders a command template may use (filled in per stage; see docs/evolve.md). */
export const PLACEHOLDERS = ["round", "seed", "dir", "data", "pairs", "out", "init", "base", "policy", "ppm", "port", "test"] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];

const template = z.string().min(1).superRefine((text, ctx) => {
    for (const match of text.matchAll(/\{([A-Za-z_]+)\}/g)) {
        const name = match[1] as string;
        if (!(PLACEHOLDERS as readonly string[]).includes(name)) ctx.addIssue({ code: "custom", message: `unknown placeholder {${name}}; known: ${PLACEHOLDERS.map((p) => `{${p}}`).join(" ")}` });
    }
});

/** A model behind an OpenAI-compatible server: one already running (url), or one a command starts per stage. */
export const endpointSchema = z.discriminatedUnion("kind", [
    z.strictObject({ kind: z.literal("url"), url: z.string().url(), model: z.string().min(1) }),
    z.strictObject({
        kind: z.literal("command"),
        /** Starts the server; {policy} (or {ppm}) is the checkpoint to serve, {port} a free port picked here. */
        command: template,
        /** The base URL once it listens, e.g. http://127.0.0.1:{port}/v1. */
        url: template,
        model: z.string().min(1),
        /** How long the server may take to answer GET {url}/models. */
        readyTimeoutS: z.number().positive().default(600),
    }),
    /** The noisy teacher of the synthetic domain (`rstar teacher serve`). */
    z.strictObject({
        kind: z.literal("teacher"),
        errorScale: z.number().nonnegative().optional(),
        /** Per-step mistake rates over the teacher's defaults (docs/synthetic-domain.md), e.g. {"repeatFact": 0.025}. */
        errorRates: z.strictObject(Object.fromEntries(TEACHER_ERROR_KINDS.map((kind) => [kind, z.number().min(0).max(1).optional()])) as Record<TeacherErrorKind, z.ZodOptional<z.ZodNumber>>).optional(),
    }),
    /**
     * A local GGUF (e.g. a quantised instruct model as the round-1 bootstrap policy), served by `rstar serve --policy`
     * (llama.cpp, on the GPU when there is one); the path resolves against the config file's folder.
     */
    z.strictObject({
        kind: z.literal("gguf"),
        path: z.string().min(1),
        threads: z.number().int().positive().optional(),
        sequences: z.number().int().positive().optional(),
        gpu: z.enum(["off", "auto", "cuda", "vulkan", "metal"]).optional(),
        gpuLayers: z.union([z.number().int().nonnegative(), z.literal("max")]).optional(),
    }),
    /** A policy trained here, served by `rstar serve` (llama.cpp, in-process). */
    z.strictObject({
        kind: z.literal("embedded"),
        threads: z.number().int().positive().optional(),
        sequences: z.number().int().positive().optional(),
        /** `rstar serve --gpu`: auto (a GPU when one is usable, else the CPU), off, cuda, vulkan or metal. */
        gpu: z.enum(["off", "auto", "cuda", "vulkan", "metal"]).optional(),
        /** `rstar serve --gpu-layers`: a count, or "max". */
        gpuLayers: z.union([z.number().int().nonnegative(), z.literal("max")]).optional(),
    }),
]);
export type Endpoint = z.infer<typeof endpointSchema>;

/** How a trained PPM scores steps during search and evaluation. */
export const rewardSchema = z.discriminatedUnion("kind", [
    /** The PPM directory, run by llama.cpp in the search process (`--ppm DIR`). */
    z.strictObject({ kind: z.literal("embedded") }),
    /** A PPM backbone on a vLLM pooling server (`--reward-url`), its value head applied here. {ppm} = the checkpoint. */
    z.strictObject({ kind: z.literal("url"), url: z.string().url(), model: z.string().min(1), valueHead: template }),
    z.strictObject({ kind: z.literal("command"), command: template, url: template, model: z.string().min(1), valueHead: template, readyTimeoutS: z.number().positive().default(600) }),
]);
export type RewardEndpoint = z.infer<typeof rewardSchema>;

/** A training stage: the project's own trainer (`rstar train sft|ppm` with extra flags) or the user's command. */
const trainerSchema = z.discriminatedUnion("kind", [
    z.strictObject({ kind: z.literal("rstar"), args: z.array(z.string()).default([]) }),
    z.strictObject({ kind: z.literal("command"), command: template }),
]);
export type Trainer = z.infer<typeof trainerSchema>;

/** A `problems.steps` range ("2-6", already matched by the schema's pattern) as [low, high]. */
export function parseStepRange(range: string): [number, number] {
    const [low, high] = range.split("-").map(Number);
    return [low as number, high as number];
}

const roundSchema = z.strictObject({
    /** Round 1: the bootstrap policy; later rounds: how the previous round's policy is served. */
    policy: endpointSchema,
    search: z.strictObject({
        /** A search preset (rstar search --list-presets). */
        preset: z.string().min(1),
        rollouts: z.number().int().positive(),
        /** "terminal": ground-truth terminal reward only; "ppm": the previous round's PPM scores new steps too. */
        guidance: z.enum(["terminal", "ppm"]),
        /** Extra `rstar search` flags, e.g. ["--candidates", "4"]. */
        args: z.array(z.string()).default([]),
        concurrency: z.number().int().positive(),
        /** Searches again, with these rollouts each, the problems still without a correct trajectory. */
        unsolvedRollouts: z.array(z.number().int().positive()).default([]),
    }),
    problems: z.strictObject({
        /** all: every train problem; window: the next `count` problems after the earlier rounds'; random: `count` at random; unsolved: problems no earlier round solved. */
        sample: z.enum(["all", "window", "random", "unsolved"]),
        count: z.number().int().positive().nullable(),
        /** Only train problems whose `steps` field lies in this range, e.g. "2-6" (a length curriculum); absent: every problem. */
        steps: z
            .string()
            .regex(/^\d+-\d+$/, 'a step range is "LOW-HIGH", e.g. "2-6"')
            .refine((range) => { const [low, high] = parseStepRange(range); return low <= high; }, "a step range's low end must not pass its high end")
            .optional(),
    }),
    sft: z.strictObject({
        /** Top trajectories per problem by mean Q (paper: 2). */
        perProblem: z.number().int().positive(),
        format: z.enum(["official", "trl"]),
        /** The checkpoint SFT starts from: the base model, or the previous round's policy. */
        init: z.enum(["base", "previous"]),
        /**
         * "all": from round 2 the policy also trains on every earlier round's SFT records (the problems earlier rounds
         * searched, as the paper's rounds each search the whole pool); "none": only this round's. See docs/evolve.md.
         */
        earlierRecords: z.enum(["none", "all"]).default("none"),
        /** With earlierRecords "all": how many times this round's own records are repeated in the mix (their weight). */
        ownRecordsRepeat: z.number().int().positive().default(1),
        trainer: trainerSchema,
    }),
    ppm: z.strictObject({
        format: z.enum(["official", "trl"]),
        minMargin: z.number(),
        minEditDistance: z.number().int().nonnegative(),
        finalPairs: z.enum(["official", "paper"]),
        label: z.enum(["q", "grader"]),
        /** The PPM backbone: this round's policy (official issue #29) or the previous round's PPM. */
        init: z.enum(["policy", "previous"]),
        /**
         * "all": the PPM also trains on every earlier round's pairs (round 1's cheap bootstrap pairs in volume, mixed
         * with the policy's own); "none": only this round's (the paper). Not the paper's; see docs/evolve.md.
         */
        earlierPairs: z.enum(["none", "all"]).default("none"),
        /** With earlierPairs "all" or policySamples: how many times this round's own pairs are repeated in the mix (their weight). */
        ownPairsRepeat: z.number().int().positive().default(1),
        /**
         * Extra pairs from the round's search policy's own best-of-N samples (`rstar search --preset best-of-n`) on
         * `problems` train problems outside the round's search, `samples` solutions each, extracted with the settings
         * above; mixed into the PPM's training pairs `repeat` times. Absent or null: off (the paper). Not the paper's;
         * see docs/evolve.md.
         */
        policySamples: z
            .strictObject({
                problems: z.number().int().positive(),
                samples: z.number().int().positive(),
                repeat: z.number().int().positive().default(1),
                /** Extra `rstar search` flags for the sampling run, e.g. ["--max-tokens", "256"]. */
                args: z.array(z.string()).default([]),
            })
            .nullable()
            .optional(),
        /**
         * Synthetic data only: before training on the round's pairs, the PPM backbone (this round's policy) first trains
         * on misread pairs (`rstar synth misreads`) from `problems` freshly generated train problems none of whose
         * questions is in test or ood, the first `heldOut` of them kept apart as held-out pairs; the round's PPM then
         * continues from it. Absent or null: off (the paper). Not the paper's; see docs/evolve.md ("Misreadings made on
         * purpose").
         */
        misreadPretrain: z
            .strictObject({
                problems: z.number().int().positive(),
                heldOut: z.number().int().nonnegative().default(600),
                /** Misread step pairs kept (at random) next to every whole-solution pair; null: all. */
                maxStepPairs: z.number().int().positive().nullable().default(null),
                trainer: trainerSchema,
            })
            .nullable()
            .optional(),
        trainer: trainerSchema,
    }),
});
export type RoundConfig = z.infer<typeof roundSchema>;

const evalMethod = z.string().regex(/^(greedy|beam|mcts|(maj|bon)@[1-9][0-9]*)$/, "a method is greedy, beam, mcts, maj@K or bon@K");

/** A round number, or "last" (the config's last round). */
const roundRef = z.union([z.number().int().positive(), z.literal("last")]);

const evalSchema = z.strictObject({
    /** rstar eval methods after each round: greedy, maj@K, bon@K, mcts, beam. */
    methods: z.array(evalMethod),
    /**
     * The rounds after which a method runs (round numbers, or "last" for the config's last round); a method not
     * listed runs after every round, and a listed method that is not in `methods` never runs. Optional (absent: every
     * method after every round), so configs resolved before it existed still resume.
     */
    methodRounds: z.record(evalMethod, z.array(roundRef).min(1)).optional(),
    /**
     * The bootstrap policy of round 1 (the strong model; the synthetic preset's noisy teacher) evaluated with these
     * methods, on these splits, after these rounds (default the last), with that round's PPM: the student against its
     * teacher at the same search budget. Optional (absent or null: none; null turns a preset's off).
     */
    baseline: z
        .strictObject({ methods: z.array(evalMethod).min(1), splits: z.array(z.enum(["test", "ood"])).min(1), rounds: z.array(roundRef).min(1).default(["last"]) })
        .nullable()
        .optional(),
    splits: z.array(z.enum(["test", "ood"])),
    limit: z.number().int().positive().nullable(),
    concurrency: z.number().int().positive(),
    /** Extra `rstar eval` flags for every method, then per method (e.g. {"mcts": ["--rollouts", "8"]}). */
    args: z.array(z.string()).default([]),
    methodArgs: z.record(z.string(), z.array(z.string())).default({}),
});

const dataSchema = z.union([
    z.strictObject({ train: z.string().min(1), test: z.string().min(1).optional(), ood: z.string().min(1).optional() }),
    z.strictObject({
        synth: z.strictObject({
            train: z.number().int().positive(),
            test: z.number().int().positive(),
            ood: z.number().int().positive(),
            difficulty: z.number().int().min(1).max(5).default(3),
            steps: z.string().regex(/^\d+-\d+$/).optional(),
            oodSteps: z.string().regex(/^\d+-\d+$/).optional(),
            /** The train split's own step range (`synth generate --train-steps`), e.g. reaching into the ood lengths. */
            trainSteps: z.string().regex(/^\d+-\d+$/).optional(),
        }),
    }),
]);

export const configSchema = z.strictObject({
    seed: z.number().int().nonnegative(),
    data: dataSchema,
    /** The base model SFT starts from when a round's sft.init is "base" (a checkpoint path, or null: train from scratch). */
    basePolicy: z.string().min(1).nullable(),
    /** How this round's trained policy and PPM are served for evaluation (and for the next round's search). */
    serve: z.strictObject({ policy: endpointSchema, reward: rewardSchema }),
    rounds: z.array(roundSchema).min(1).max(8),
    eval: evalSchema,
}).superRefine((config, ctx) => {
    const checkRounds = (rounds: readonly (number | "last")[], path: (string | number)[]) =>
        rounds.forEach((round, i) => {
            if (typeof round === "number" && round > config.rounds.length) {
                ctx.addIssue({ code: "custom", path: [...path, i], message: `round ${round} does not exist (the config has ${config.rounds.length}; "last" names the last)` });
            }
        });
    for (const [method, rounds] of Object.entries(config.eval.methodRounds ?? {})) checkRounds(rounds, ["eval", "methodRounds", method]);
    if (config.eval.baseline) checkRounds(config.eval.baseline.rounds, ["eval", "baseline", "rounds"]);
});
export type EvolveConfig = z.infer<typeof configSchema>;

/** Whether evaluation method `method` runs after round n (eval.methodRounds). */
export function evaluatesAfterRound(config: EvolveConfig, n: number, method: string): boolean {
    const rounds = config.eval.methodRounds?.[method];
    return rounds === undefined || namesRound(config, rounds, n);
}

/** Whether a list of round references (numbers, or "last") names round n. */
function namesRound(config: EvolveConfig, rounds: readonly (number | "last")[], n: number): boolean {
    return rounds.some((round) => (round === "last" ? config.rounds.length : round) === n);
}

/** Whether the bootstrap policy is evaluated (eval.baseline) after round n. */
export function baselineAfterRound(config: EvolveConfig, n: number): boolean {
    return namesRound(config, config.eval.baseline?.rounds ?? [], n);
}

/** The paper's four rounds with the official settings (docs/evolve.md cites each). Real scale: the user's servers. */
function paperRound(round: number): RoundConfig {
    return {
        // Round 1: a strong bootstrap model (the paper: DeepSeek-Coder-V2-Instruct 236B); later rounds: the previous policy.
        policy: round === 1 ? { kind: "url", url: "http://127.0.0.1:8000/v1", model: "bootstrap" } : { kind: "embedded" },
        search: {
            // Paper §3.4: round 1 terminal-guided MCTS with 8 rollouts (preset bootstrap: few-shot prompt); round 2
            // terminal-guided with 16 rollouts; rounds 3-4 PPM-augmented MCTS (official config/sample_mcts.yaml with
            // need_value_func); round 4 adds 64 then 128 rollouts for problems still unsolved.
            preset: round === 1 ? "bootstrap" : "sample",
            rollouts: round === 1 ? 8 : 16,
            guidance: round <= 2 ? "terminal" : "ppm",
            args: [],
            concurrency: 8,
            unsolvedRollouts: round === 4 ? [64, 128] : [],
        },
        problems: { sample: "all", count: null },
        // Paper §3.4 / official train/sample_sft_data.py --n 2: top-2 trajectories by average Q.
        sft: { perProblem: 2, format: "official", init: "base", earlierRecords: "none", ownRecordsRepeat: 1, trainer: { kind: "rstar", args: [] } },
        // Official sample_rm_data.py thresholds (margin 0.5, edit distance 20); final-answer pairs as the paper (§3.3);
        // the PPM is re-initialised from this round's policy (official repo, issue #29).
        ppm: { format: "official", minMargin: 0.5, minEditDistance: 20, finalPairs: "paper", label: "q", init: "policy", earlierPairs: "none", ownPairsRepeat: 1, trainer: { kind: "rstar", args: [] } },
    };
}

export function paperDefaults(): EvolveConfig {
    return {
        seed: 0,
        data: { train: "train.jsonl", test: "test.jsonl" },
        basePolicy: null,
        serve: { policy: { kind: "embedded" }, reward: { kind: "embedded" } },
        rounds: [1, 2, 3, 4].map(paperRound),
        eval: { methods: ["greedy", "maj@8", "mcts"], splits: ["test", "ood"], limit: 200, concurrency: 4, args: [], methodArgs: {} },
    };
}

/**
 * `--preset synthetic`: the offline miniature on the synthetic domain, budgeted for two hours on 2 cores (docs/evolve.md,
 * "The synthetic preset"). A length curriculum: round 1 bootstraps with the noisy teacher on a large window of short
 * (2-6-step) problems (its MCTS is cheap) and trains the policy from scratch (there is no pretrained base); round 2
 * has the teacher search longer (7-8-step) problems, and the policy continues on them mixed with round 1's; rounds 3-4
 * search small windows of every length with the policy, continuing from the previous round's checkpoint (the issue
 * allows it) on their own records mixed with the earlier rounds'.
 */
export function syntheticPreset(): EvolveConfig {
    const base = paperDefaults();
    return {
        ...base,
        seed: 1,
        // The train split spans 2-8 steps (the rounds pick their lengths by problems.steps); test keeps 2-6 and the
        // harder ood split 7-8, both held out by question.
        data: { synth: { train: 4000, test: 200, ood: 200, difficulty: 3, trainSteps: "2-8" } },
        rounds: base.rounds.map((round, i) => {
            const teacherRound = i <= 1;
            return {
                ...round,
                policy: teacherRound ? { kind: "teacher" } : { kind: "embedded", threads: 1 },
                // The tiny policy writes one step per request in a 1,024-token context: 256 tokens a step (the teacher
                // needs no cap), 8 rollouts x 4 candidates as its evaluation (the official 16 x 12 costs six times as
                // much); round 4 searches its unsolved problems again with twice the rollouts. The teacher searches as
                // in round 1 (terminal-guided, 8 rollouts, few-shot prompt).
                search: teacherRound
                    ? { ...round.search, preset: "bootstrap", rollouts: 8, guidance: "terminal", concurrency: 8, unsolvedRollouts: [] }
                    : { ...round.search, rollouts: 8, concurrency: 8, unsolvedRollouts: i === 3 ? [16] : [], args: ["--max-tokens", "256", "--candidates", "4"] },
                // The curriculum (measured, docs/evolve.md): the 0.19M policy trained from scratch on 2-8 steps at once
                // learns the short problems worse (test greedy 35% against 51.5% after round 1), while one epoch on the
                // teacher's long trajectories after the short ones lifts the harder split (7.0% to 24.5% greedy).
                problems: i === 0 ? { sample: "window", count: SYNTH_ROUND1_PROBLEMS, steps: "2-6" } : i === 1 ? { sample: "window", count: SYNTH_ROUND2_PROBLEMS, steps: "7-8" } : { sample: "window", count: 200 },
                sft:
                    i === 0
                        ? { ...round.sft, init: "base", trainer: { kind: "rstar", args: [...SYNTH_ROUND1_SFT, "--threads", "1"] } }
                        : { ...round.sft, init: "previous", earlierRecords: "all", ownRecordsRepeat: teacherRound ? 1 : 2, trainer: { kind: "rstar", args: ["--epochs", "1", "--lr", "1.5e-3", "--threads", "1"] } },
                // One thread for the trainers: the test-size model's matrices are too small for two (measured, 0.40 s a
                // step with two threads against 0.28 s with one).
                // Synthetic steps differ in a number or an operator: edit distance 5. A few hundred of the policy's own
                // pairs alone are memorised; mixed (x4) with the teacher's thousands they lift the PPM on the policy's
                // own held-out pairs (docs/evolve.md, "Towards the miniature"). From round 3, the policy's own best-of-8
                // samples on 200 other train problems add pairs of its own answers (about 2 per problem, ten times
                // cheaper than its MCTS pairs), weighted x2 as measured in docs/evolve.md. The teacher's round-2 pairs
                // are plentiful and weighted once.
                ppm: {
                    ...round.ppm,
                    minEditDistance: 5,
                    earlierPairs: "all",
                    ownPairsRepeat: i === 1 ? 1 : 4,
                    policySamples: teacherRound ? null : { problems: 200, samples: 8, repeat: 2, args: ["--max-tokens", "256"] },
                    trainer: { kind: "rstar", args: ["--epochs", "1", "--threads", "1"] },
                },
            };
        }),
        // As `rstar eval` adapts its methods to the shipped tiny policy: step stops, 256 tokens a step, 16 steps,
        // MCTS with 8 rollouts x 4 candidates. maj@8 and MCTS sample at temperature 0.5: the 0.19M-parameter policy's
        // samples at 1 are far worse than its greedy path (round 4 of the first run: one sample 44.9% against greedy
        // 59.0%; at 0.5, 56.8%, and maj@8 61.0% against 57.0%; docs/evolve.md). Greedy after every round; maj@8 and
        // MCTS+PPM (28 of a round's 30 evaluation minutes at the shipped policy's speed, docs/evolve.md "Measured
        // cost") after the last, where the issue's table compares them, and the teacher with MCTS+PPM on the harder
        // split (student against teacher).
        eval: {
            methods: ["greedy", "maj@8", "mcts"],
            methodRounds: { "maj@8": ["last"], mcts: ["last"] },
            splits: ["test", "ood"],
            limit: 200,
            concurrency: 4,
            args: ["--max-tokens", "256", "--stop", "<end_of_step>", "<end_of_code>", "<end_of_answer>"],
            methodArgs: { greedy: ["--max-depth", "16"], "maj@8": ["--temperature", "0.5"], mcts: ["--rollouts", "8", "--candidates", "4", "--temperature", "0.5"] },
            baseline: { methods: ["mcts"], splits: ["ood"], rounds: ["last"] },
        },
    };
}

/**
 * Round 1 of the synthetic preset: the teacher's window, and the policy trained from scratch on its trajectories. The
 * `test` model size (0.19M parameters) trained on many problems beats the `tiny` one (1M) trained on fewer for the same
 * minutes: 12 epochs on the top-2 teacher trajectories of 2,911 problems (29 min on shared cores) solved 65.0% of 200
 * held-out problems greedily, the shipped tiny policy (1,472 problems, 15 epochs, 52 min) 37.5% (docs/evolve.md).
 */
const SYNTH_ROUND1_PROBLEMS = 2400;
/** Round 2 of the synthetic preset: the teacher's window of longer problems (its MCTS on 800 took 1 min 35 s). */
const SYNTH_ROUND2_PROBLEMS = 800;
const SYNTH_ROUND1_SFT = ["--preset", "test", "--epochs", "10"];

export const CONFIG_PRESETS: Readonly<Record<string, () => EvolveConfig>> = { paper: paperDefaults, synthetic: syntheticPreset };

/**
 * Merges a config file over a preset: objects merge key by key, arrays and scalars replace. `rounds` merges per round
 * over the preset's rounds (a file may also give `roundDefaults`, merged into every round first).
 */
export function mergeConfig(base: EvolveConfig, overlay: Record<string, unknown>): unknown {
    const { roundDefaults, rounds, ...rest } = overlay;
    const merged = deepMerge(base, rest) as Record<string, unknown>;
    let baseRounds = base.rounds as unknown[];
    if (Array.isArray(rounds) && rounds.length < baseRounds.length) baseRounds = baseRounds.slice(0, rounds.length);
    let roundList = baseRounds.map((round) => (isPlainObject(roundDefaults) ? deepMerge(round, roundDefaults) : round));
    if (rounds !== undefined) {
        if (!Array.isArray(rounds)) return { ...merged, rounds };
        roundList = rounds.map((round, i) => (i < roundList.length ? deepMerge(roundList[i], round) : isPlainObject(roundDefaults) ? deepMerge(roundDefaults, round) : round));
    }
    merged["rounds"] = roundList;
    return merged;
}

function deepMerge(base: unknown, overlay: unknown): unknown {
    if (!isPlainObject(base) || !isPlainObject(overlay)) return overlay === undefined ? base : overlay;
    // A different kind of endpoint or trainer replaces the whole object (its fields do not mix).
    if (typeof overlay["kind"] === "string" && overlay["kind"] !== base["kind"]) return overlay;
    const out: Record<string, unknown> = { ...base };
    for (const [key, value] of Object.entries(overlay)) out[key] = deepMerge(base[key], value);
    return out;
}

export interface LoadedConfig {
    config: EvolveConfig;
    /** The folder paths in the config resolve against. */
    baseDir: string;
    source: string;
}

/** Reads and validates a config: the preset (default "paper"), then the file merged over it. */
export function loadEvolveConfig(options: { file?: string; preset?: string; cwd?: string }): LoadedConfig {
    const presetName = options.preset ?? "paper";
    const preset = CONFIG_PRESETS[presetName];
    if (preset === undefined) throw new RstarError("INVALID_ARGUMENT", `unknown preset "${presetName}"; choose one of ${Object.keys(CONFIG_PRESETS).join(", ")}`);
    const cwd = options.cwd ?? process.cwd();
    let raw: unknown = preset();
    let baseDir = cwd;
    if (options.file !== undefined) {
        let text: string;
        try {
            text = readFileSync(options.file, "utf8");
        } catch (error) {
            throw new RstarError("FILE_NOT_FOUND", `cannot read config file ${options.file}: ${(error as Error).message}`);
        }
        const parsed = parseJson(text);
        if (!parsed.ok) throw new InputError(parsed.error, { file: options.file });
        if (!isPlainObject(parsed.value)) throw new InputError("the config must be a JSON object", { file: options.file });
        raw = mergeConfig(preset(), parsed.value);
        baseDir = dirname(resolve(cwd, options.file));
    }
    const checked = configSchema.safeParse(raw);
    if (!checked.success) {
        const issue = checked.error.issues[0];
        const field = issue?.path.join(".") || undefined;
        throw new InputError(issue?.message ?? "invalid config", { file: options.file ?? `preset ${presetName}`, ...(field ? { field } : {}) });
    }
    const config = checked.data;
    for (const endpoint of [config.serve.policy, ...config.rounds.map((round) => round.policy)]) {
        if (endpoint.kind === "gguf") endpoint.path = isAbsolute(endpoint.path) ? endpoint.path : resolve(baseDir, endpoint.path);
    }
    for (const [i, round] of config.rounds.entries()) {
        if (i === 0 && round.policy.kind === "embedded") throw new InputError('round 1 has no earlier policy to serve: use kind "url", "gguf", "command" or "teacher"', { file: options.file ?? presetName, field: "rounds.0.policy.kind" });
        const teacher = round.policy.kind === "teacher" ? round.policy : null;
        if (teacher?.errorRates !== undefined) {
            const total = Object.values(scaleErrorRates(teacher.errorRates, teacher.errorScale)).reduce((sum, rate) => sum + rate, 0);
            if (total > 1 + 1e-9) throw new InputError(`the teacher's error rates (over its defaults, times errorScale) sum to ${total.toFixed(3)}; they must sum to at most 1`, { file: options.file ?? presetName, field: `rounds.${i}.policy.errorRates` });
        }
        if (i === 0 && round.search.guidance === "ppm") throw new InputError('round 1 has no earlier PPM: guidance must be "terminal"', { file: options.file ?? presetName, field: "rounds.0.search.guidance" });
        if (i === 0 && round.problems.sample === "unsolved") throw new InputError('round 1 has no earlier rounds: sample "unsolved" needs one', { file: options.file ?? presetName, field: "rounds.0.problems.sample" });
        for (const kind of ["sft", "ppm"] as const) {
            if (round[kind].trainer.kind === "rstar" && round[kind].format !== "official") {
                throw new InputError(`rstar train ${kind} reads the official format; use format "official" or a command trainer`, { file: options.file ?? presetName, field: `rounds.${i}.${kind}.format` });
            }
        }
        if ((round.ppm.misreadPretrain ?? null) !== null && !("synth" in config.data)) {
            throw new InputError("ppm.misreadPretrain makes its pairs from synthetic problems: it needs data.synth", { file: options.file ?? presetName, field: `rounds.${i}.ppm.misreadPretrain` });
        }
        if (round.sft.init === "base" && config.basePolicy === null && round.sft.trainer.kind === "command") {
            throw new InputError('sft.init "base" with a command trainer needs basePolicy (the checkpoint {init} stands for)', { file: options.file ?? presetName, field: `rounds.${i}.sft.init` });
        }
    }
    return { config, baseDir, source: options.file ?? `preset ${presetName}` };
}

/** A path from the config, resolved against its folder. */
export function configPath(loaded: LoadedConfig, path: string): string {
    return isAbsolute(path) ? path : resolve(loaded.baseDir, path);
}

/** Fills `{name}` placeholders; every placeholder used must have a value here. */
export function fillTemplate(text: string, values: Partial<Record<Placeholder, string>>, where: string): string {
    return text.replace(/\{([A-Za-z_]+)\}/g, (_, name: string) => {
        const value = values[name as Placeholder];
        if (value === undefined) throw new RstarError("CONFIG_INVALID", `${where}: placeholder {${name}} has no value in this stage (it has: ${Object.keys(values).map((k) => `{${k}}`).join(" ")})`);
        return value;
    });
}
