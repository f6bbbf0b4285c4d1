import { spawn } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { RstarError } from "../errors/index.js";
import { findPython, isPlainObject, packageRoot, parseJson } from "../util/index.js";

/** One progress event of the Python trainer (a JSON line on its stdout). */
export interface TrainEvent {
    event: "tokenizer" | "start" | "step" | "eval" | "epoch" | "solve" | "issue" | "trained" | "done" | "error" | (string & {});
    elapsed_s?: number;
    step?: number;
    steps?: number;
    epoch?: number;
    loss?: number;
    eval_loss?: number;
    accuracy?: number;
    tokens_per_s?: number;
    pairs_per_s?: number;
    message?: string;
    [field: string]: unknown;
}

export interface TrainResult {
    /** Paths of what was written (gguf, tokenizer, config, checkpoint, metrics; value_head and its manifest for PPM). */
    files: Record<string, string>;
    /** Final metrics (losses, throughput, held-out accuracy or solve rate). */
    metrics: Record<string, unknown>;
    /** Malformed input lines the trainer skipped, as `FILE:LINE: problem`. */
    issues: string[];
}

export interface RunHooks {
    onEvent?: (event: TrainEvent) => void;
    /** Lines the trainer wrote to stderr (warnings). */
    onStderr?: (line: string) => void;
    signal?: AbortSignal;
    /** Python interpreter; default: findPython with torch and numpy. */
    python?: string;
    env?: NodeJS.ProcessEnv;
}

interface CommonTrainOptions {
    out: string;
    epochs?: number;
    maxSteps?: number;
    lr?: number;
    maxLen?: number;
    threads?: number;
    seed?: number;
    warmup?: number;
    /** Write F32 matrices (parity tests). Default F16. */
    f32?: boolean;
    name?: string;
    logEvery?: number;
}

export interface SftOptions extends CommonTrainOptions {
    /** `{query, response}` JSONL (sft-train.jsonl of `rstar synth generate`, or `rstar extract sft`). */
    data: string;
    /** Reuse this tokenizer.json instead of training one on the data. */
    tokenizer?: string;
    merges?: number;
    /** Continue from a model directory (checkpoint.pt) instead of a fresh model. */
    init?: string;
    preset?: "test" | "tiny" | "small" | "base";
    dim?: number;
    layers?: number;
    heads?: number;
    ffnDim?: number;
    batchTokens?: number;
    evalEvery?: number;
    /** Problems `{question, answer}` for a greedy solve-rate check after training. */
    solveData?: string;
    solveCount?: number;
}

export interface PpmOptions extends CommonTrainOptions {
    /** `{prompt, pos, neg, pos_count, neg_count}` JSONL (`rstar extract ppm`). */
    pairs: string;
    /** Policy directory the backbone starts from: tokenizer.json and checkpoint.pt, or model.gguf (F32/F16) + config.json. */
    base: string;
    /** Held-out pairs. Without them, a `testFraction` of the problems (default 0.1) is held out, whole. */
    testPairs?: string;
    /** Share of the distinct problems whose pairs are held out (never a share of the pairs: siblings would leak). */
    testFraction?: number;
    headLr?: number;
    batch?: number;
    /** Padded tokens a batch may hold (default 16,384). */
    batchTokens?: number;
}

/** Pairwise accuracy on held-out pairs, with its sample size and two 95% intervals (train/ppm_heldout.py). */
export interface PairAccuracy {
    pairs: number;
    /** Distinct problems the pairs come from (a pair's problem: its prompt up to the assistant opening). */
    problems: number;
    correct: number;
    /** correct / pairs (r_pos > r_neg; a tie counts as wrong); null without pairs. */
    accuracy: number | null;
    /** Wilson score interval, pairs treated as independent. */
    wilson95: [number, number] | null;
    /** Percentile interval of 2,000 bootstrap resamples of whole problems. */
    bootstrap95: [number, number] | null;
}

/** The kinds of pair held-out accuracy is broken down by (docs/training.md, "Held-out PPM accuracy"). */
export type PairKind = "code_vs_code" | "code_vs_answer" | "final_answer";

/** `metrics.heldout` of `train ppm` and `eval-ppm`: accuracy overall and by kind. */
export interface HeldoutReport extends PairAccuracy {
    by_kind: Record<PairKind, PairAccuracy>;
}

export interface PpmEvalOptions {
    /** Trained PPM directory: model.gguf + config.json (or checkpoint.pt) and value_head.safetensors. */
    ppm: string;
    /** `{prompt, pos, neg}` pairs to score, from problems the PPM never saw. */
    pairs: string;
    /** The PPM's training pairs, if known: the result counts evaluated problems that also appear there. */
    trainPairs?: string;
    /** tokenizer.json (default: the directory's, else the vocabulary in its model.gguf). */
    tokenizer?: string;
    /** Write the metrics JSON to this file. */
    out?: string;
    /** Write each pair's scores to this JSONL file: `{pos_score, neg_score, kind}` (score = tanh(head output / 5), as search sees it). */
    scores?: string;
    batch?: number;
    maxLen?: number;
    threads?: number;
}

/** The Python trainer script (train/trainer.py in the package root). */
export function trainerScript(name = "trainer.py"): string {
    return join(packageRoot(), "train", name);
}

/** A Python that imports torch and numpy, or PYTHON_UNAVAILABLE saying what was tried. */
export function findTrainingPython(env: NodeJS.ProcessEnv = process.env): string {
    return findPython({ modules: ["torch", "numpy"], purpose: "training tiny models (install with scripts/setup.sh: python3-torch, libopenblas0-pthread)" }, env);
}

function requireFile(path: string, flag: string): void {
    if (!existsSync(path) || !statSync(path).isFile()) throw new RstarError("FILE_NOT_FOUND", `${flag} ${path}: no such file`);
}

function flag(args: string[], name: string, value: string | number | boolean | undefined): void {
    if (value === undefined || value === false) return;
    if (value === true) args.push(name);
    else args.push(name, String(value));
}

function commonArgs(args: string[], o: CommonTrainOptions): void {
    flag(args, "--out", o.out);
    flag(args, "--epochs", o.epochs);
    flag(args, "--max-steps", o.maxSteps);
    flag(args, "--lr", o.lr);
    flag(args, "--max-len", o.maxLen);
    flag(args, "--threads", o.threads);
    flag(args, "--seed", o.seed);
    flag(args, "--warmup", o.warmup);
    flag(args, "--f32", o.f32);
    flag(args, "--name", o.name);
    flag(args, "--log-every", o.logEvery);
}

/** Policy SFT (loss on the response only) on `{query, response}` records; writes model.gguf etc. to `out`. */
export async function trainSft(options: SftOptions, hooks: RunHooks = {}): Promise<TrainResult> {
    requireFile(options.data, "--data");
    if (options.tokenizer !== undefined) requireFile(options.tokenizer, "--tokenizer");
    if (options.solveData !== undefined) requireFile(options.solveData, "--solve-data");
    if (options.init !== undefined && !existsSync(options.init)) throw new RstarError("FILE_NOT_FOUND", `--init ${options.init}: not found`);
    const args = ["sft"];
    flag(args, "--data", options.data);
    commonArgs(args, options);
    flag(args, "--tokenizer", options.tokenizer);
    flag(args, "--merges", options.merges);
    flag(args, "--init", options.init);
    flag(args, "--preset", options.preset);
    flag(args, "--dim", options.dim);
    flag(args, "--n-layers", options.layers);
    flag(args, "--n-heads", options.heads);
    flag(args, "--ffn-dim", options.ffnDim);
    flag(args, "--batch-tokens", options.batchTokens);
    flag(args, "--eval-every", options.evalEvery);
    flag(args, "--solve-data", options.solveData);
    flag(args, "--solve-count", options.solveCount);
    return runTrainer(trainerScript(), args, hooks);
}

/** PPM: pairwise Bradley-Terry training of backbone + value head; writes model.gguf, value_head.safetensors etc. */
export async function trainPpm(options: PpmOptions, hooks: RunHooks = {}): Promise<TrainResult> {
    requireFile(options.pairs, "--pairs");
    if (options.testPairs !== undefined) requireFile(options.testPairs, "--test-pairs");
    const has = (name: string) => existsSync(join(options.base, name));
    if (!has("tokenizer.json") || !(has("checkpoint.pt") || (has("model.gguf") && has("config.json")))) {
        throw new RstarError(
            "FILE_NOT_FOUND",
            `--base ${options.base}: needs tokenizer.json and checkpoint.pt (or model.gguf + config.json), as \`rstar train sft\` writes`,
        );
    }
    const args = ["ppm"];
    flag(args, "--pairs", options.pairs);
    flag(args, "--base", options.base);
    commonArgs(args, options);
    flag(args, "--test-pairs", options.testPairs);
    flag(args, "--test-fraction", options.testFraction);
    flag(args, "--head-lr", options.headLr);
    flag(args, "--batch", options.batch);
    flag(args, "--batch-tokens", options.batchTokens);
    return runTrainer(trainerScript(), args, hooks);
}

/**
 * Scores every pair with a trained PPM (nothing is trained): `metrics.heldout` is a {@link HeldoutReport}, with
 * `accuracy`, `eval_loss`, `test_pairs`, `test_problems` and, with `trainPairs`, `test_problems_in_training`.
 */
export async function evalPpm(options: PpmEvalOptions, hooks: RunHooks = {}): Promise<TrainResult> {
    requireFile(options.pairs, "--pairs");
    if (options.trainPairs !== undefined) requireFile(options.trainPairs, "--train-pairs");
    if (options.tokenizer !== undefined) requireFile(options.tokenizer, "--tokenizer");
    const has = (name: string) => existsSync(join(options.ppm, name));
    if (!has("value_head.safetensors") || !(has("checkpoint.pt") || (has("model.gguf") && has("config.json")))) {
        throw new RstarError(
            "FILE_NOT_FOUND",
            `--ppm ${options.ppm}: needs value_head.safetensors and model.gguf + config.json (or checkpoint.pt), as \`rstar train ppm\` writes`,
        );
    }
    const args = ["eval-ppm"];
    flag(args, "--model", options.ppm);
    flag(args, "--pairs", options.pairs);
    flag(args, "--train-pairs", options.trainPairs);
    flag(args, "--tokenizer", options.tokenizer);
    flag(args, "--out", options.out);
    flag(args, "--scores", options.scores);
    flag(args, "--batch", options.batch);
    flag(args, "--max-len", options.maxLen);
    flag(args, "--threads", options.threads);
    return runTrainer(trainerScript(), args, hooks);
}

export interface TestModelOptions {
    out: string;
    steps?: number;
    seed?: number;
    /** `{query, response}` JSONL to train on instead of the built-in mini corpus. */
    data?: string;
}

/** Writes the small test model + golden outputs (train/make_test_model.py; layout in train/README.md). */
export async function makeTestModel(options: TestModelOptions, hooks: RunHooks = {}): Promise<TrainResult> {
    const args: string[] = [];
    flag(args, "--out", options.out);
    flag(args, "--steps", options.steps);
    flag(args, "--seed", options.seed);
    flag(args, "--data", options.data);
    return runTrainer(trainerScript("make_test_model.py"), args, hooks);
}

/**
 * Spawns a Python trainer script, passes its JSON-line events to `onEvent`, and resolves with the `done` event.
 * Exit 2 (bad input) → INVALID_INPUT; no Python with torch → PYTHON_UNAVAILABLE; abort → ABORTED; else INTERNAL.
 */
export async function runTrainer(script: string, args: readonly string[], hooks: RunHooks = {}): Promise<TrainResult> {
    const python = hooks.python ?? findTrainingPython(hooks.env);
    if (hooks.signal?.aborted) throw new RstarError("ABORTED", "training aborted before it started");
    const child = spawn(python, ["-u", script, ...args], {
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...(hooks.env ?? process.env), PYTHONUNBUFFERED: "1", OMP_NUM_THREADS: process.env["OMP_NUM_THREADS"] ?? threadsOf(args) },
    });
    const onAbort = () => child.kill("SIGINT");
    hooks.signal?.addEventListener("abort", onAbort, { once: true });
    const issues: string[] = [];
    const stderrTail: string[] = [];
    let done: TrainEvent | null = null;
    let failure: TrainEvent | null = null;

    const stdout = createInterface({ input: child.stdout, crlfDelay: Infinity });
    stdout.on("line", (line) => {
        const parsed = parseJson(line);
        if (!parsed.ok || !isPlainObject(parsed.value) || typeof parsed.value["event"] !== "string") {
            hooks.onStderr?.(line);
            return;
        }
        const event = parsed.value as TrainEvent;
        if (event.event === "issue" && typeof event.message === "string") issues.push(event.message);
        if (event.event === "done") done = event;
        if (event.event === "error") failure = event;
        hooks.onEvent?.(event);
    });
    const stderr = createInterface({ input: child.stderr, crlfDelay: Infinity });
    stderr.on("line", (line) => {
        stderrTail.push(line);
        if (stderrTail.length > 40) stderrTail.shift();
        hooks.onStderr?.(line);
    });

    const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
        child.once("error", (error) => reject(new RstarError("PYTHON_UNAVAILABLE", `cannot start ${python}: ${error.message}`, { cause: error })));
        child.once("close", (code, signal) => resolve({ code, signal }));
    }).finally(() => hooks.signal?.removeEventListener("abort", onAbort));

    const failed = failure as TrainEvent | null;
    const finished = done as TrainEvent | null;
    if (exit.code === 0 && finished !== null) {
        return {
            files: isPlainObject(finished["files"]) ? (finished["files"] as Record<string, string>) : {},
            metrics: isPlainObject(finished["metrics"]) ? (finished["metrics"] as Record<string, unknown>) : {},
            issues,
        };
    }
    const message = failed?.message ?? stderrTail.slice(-5).join("\n") ?? "";
    if (hooks.signal?.aborted || exit.code === 130 || exit.signal === "SIGINT") throw new RstarError("ABORTED", "training interrupted");
    if (exit.code === 2) throw new RstarError("INVALID_INPUT", message || "the trainer rejected its input");
    throw new RstarError("INTERNAL", `trainer failed (exit ${exit.code ?? exit.signal}): ${message}`, {
        details: { traceback: failed?.["traceback"], stderr: stderrTail.join("\n") },
    });
}

function threadsOf(args: readonly string[]): string {
    const i = args.indexOf("--threads");
    return i >= 0 && args[i + 1] !== undefined ? String(args[i + 1]) : "1";
}
