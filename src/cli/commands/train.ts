import type { Command } from "commander";
import { SingleBar } from "cli-progress";
import { RstarError } from "../../errors/index.js";
import {
    describeHeldout,
    describeTrainEvent,
    evalPpm,
    trainPpm,
    trainSft,
    type HeldoutReport,
    type PpmEvalOptions,
    type PpmOptions,
    type SftOptions,
    type TrainEvent,
    type TrainResult,
} from "../../train/index.js";
import { ExitCode, type ExitCodeValue } from "../exit-codes.js";
import { action, positiveInt } from "../run-command.js";

interface CommonFlags {
    out: string;
    epochs?: number;
    maxSteps?: number;
    lr?: number;
    maxLen?: number;
    threads: number;
    seed?: number;
    f32?: boolean;
    json?: boolean;
    quiet?: boolean;
}

interface SftFlags extends CommonFlags {
    data: string;
    tokenizer?: string;
    merges?: number;
    init?: string;
    preset: string;
    dim?: number;
    layers?: number;
    heads?: number;
    ffnDim?: number;
    batchTokens?: number;
    solveData?: string;
    solveCount?: number;
}

interface PpmFlags extends CommonFlags {
    pairs: string;
    base: string;
    testPairs?: string;
    headLr?: number;
    batch?: number;
}

interface EvalPpmFlags {
    ppm: string;
    pairs: string;
    trainPairs?: string;
    tokenizer?: string;
    out?: string;
    scores?: string;
    batch?: number;
    maxLen?: number;
    threads: number;
    json?: boolean;
    quiet?: boolean;
}

const PRESETS = ["test", "tiny", "small", "base"] as const;

export function register(program: Command): void {
    const train = program.command("train").description("train the tiny policy (SFT) and process preference model (PPM) with PyTorch on CPU");

    const sft = train
        .command("sft")
        .description("policy SFT on {query, response} records (loss on the response); writes a GGUF policy for llama.cpp")
        .requiredOption("--data <file>", "SFT records: sft-train.jsonl of `rstar synth generate`, or `rstar extract sft` output")
        .requiredOption("--out <dir>", "output directory (created; files in it are overwritten)")
        .option("--preset <name>", `model size: ${PRESETS.join(", ")} (see docs/training.md)`, "tiny")
        .option("--dim <n>", "override the preset's hidden size", positiveInt("--dim"))
        .option("--layers <n>", "override the preset's layer count", positiveInt("--layers"))
        .option("--heads <n>", "override the preset's attention heads", positiveInt("--heads"))
        .option("--ffn-dim <n>", "override the preset's FFN size", positiveInt("--ffn-dim"))
        .option("--tokenizer <file>", "reuse a tokenizer.json (default: train a BPE tokenizer on the data)")
        .option("--merges <n>", "BPE merges when training the tokenizer (default 1024)", positiveInt("--merges"))
        .option("--init <dir>", "continue training a model directory written by this command (its tokenizer.json is reused)")
        .option("--batch-tokens <n>", "padded tokens per batch (default 4096)", positiveInt("--batch-tokens"))
        .option("--solve-data <file>", "problems {question, answer} (e.g. test.jsonl) for a greedy solve-rate check at the end")
        .option("--solve-count <n>", "how many of them (default 0: no check)", positiveInt("--solve-count"));
    commonOptions(sft, "3e-3");
    sft.addHelpText(
        "after",
        `
Files in --out: model.gguf (F16, --f32 for F32), tokenizer.json, config.json, checkpoint.pt, metrics.json,
train-log.jsonl (every progress event).

Example:
  rstar synth generate --out data/synth --seed 1 --train 3000
  rstar train sft --data data/synth/sft-train.jsonl --out models/policy --epochs 3 --solve-data data/synth/test.jsonl --solve-count 40

Needs a Python 3 with torch and numpy ($RSTAR_PYTHON, python3 or /usr/bin/python3; scripts/setup.sh installs them).
Exit codes: 0 ok; 1 trained, but some input lines were malformed (skipped); 2 bad usage or input;
3 no Python with torch; 70 internal error; 130 interrupted. See docs/training.md.`,
    );
    sft.action(action("train sft", (flags: SftFlags) => runSft(flags)));

    const ppm = train
        .command("ppm")
        .description("process preference model: pairwise (Bradley-Terry) training of a policy backbone plus a value head")
        .requiredOption("--pairs <file>", "preference pairs {prompt, pos, neg, pos_count, neg_count} (`rstar extract ppm`)")
        .requiredOption("--base <dir>", "policy directory written by `rstar train sft` (tokenizer.json + checkpoint.pt, or model.gguf + config.json)")
        .requiredOption("--out <dir>", "output directory (created; files in it are overwritten)")
        .option("--test-pairs <file>", "held-out pairs (default: the pairs of 10% of the problems in --pairs, held out whole)")
        .option("--head-lr <x>", "value head learning rate (default: --lr)", positiveNumber("--head-lr"))
        .option("--batch <n>", "pairs per batch (default 16)", positiveInt("--batch"));
    commonOptions(ppm, "5e-4");
    ppm.addHelpText(
        "after",
        `
Loss: -log sigmoid(r_pos - r_neg) weighted by 1/(pos_count * neg_count), summed over the batch (official train_RM.py);
r = value head (linear) on the last token's final hidden state. Held-out reward accuracy is reported every epoch.
Without --test-pairs, whole problems are held out (a pair's problem is its prompt up to the assistant opening), so
no held-out problem has a training pair. At the end: held-out accuracy overall and by kind (code vs code, code vs
print/answer step, correct vs wrong final answer) with pairs, problems and 95% intervals (metrics.heldout).

Files in --out: model.gguf (the fine-tuned backbone, same tokenizer), value_head.safetensors (v_head.weight [1, hidden],
v_head.bias [1]), value_head.json (hidden size, score scale 5: score = tanh(output / 5)), tokenizer.json,
config.json, checkpoint.pt, metrics.json, train-log.jsonl.

Example:
  rstar train ppm --pairs runs/r1/pairs.jsonl --base models/policy --out models/ppm --epochs 2

Exit codes: 0 ok; 1 trained, but some input lines were malformed (skipped); 2 bad usage or input;
3 no Python with torch; 70 internal error; 130 interrupted. See docs/training.md.`,
    );
    ppm.action(action("train ppm", (flags: PpmFlags) => runPpm(flags)));

    const evalPpmCommand = train
        .command("eval-ppm")
        .description("score held-out preference pairs with a trained PPM: pairwise accuracy overall and by kind, with 95% intervals")
        .requiredOption("--ppm <dir>", "PPM directory (model.gguf + config.json or checkpoint.pt, value_head.safetensors), e.g. models/ppm")
        .requiredOption("--pairs <file>", "pairs {prompt, pos, neg} from problems the PPM never saw (`rstar extract ppm`)")
        .option("--train-pairs <file>", "the PPM's training pairs: report how many evaluated problems also appear there")
        .option("--tokenizer <file>", "tokenizer.json (default: the PPM directory's, else the vocabulary in its model.gguf)")
        .option("--out <file>", "also write the metrics JSON to this file")
        .option("--scores <file>", "write each pair's scores as JSONL {pos_score, neg_score, kind} (score = tanh(head / 5), as search sees it)")
        .option("--batch <n>", "pairs per forward batch (default 16)", positiveInt("--batch"))
        .option("--max-len <n>", "longest sequence in tokens, longer inputs keep their end (default 768)", positiveInt("--max-len"))
        .option("--threads <n>", "PyTorch threads", positiveInt("--threads"), 1)
        .option("--json", "print the result {files, metrics, issues} as JSON on stdout")
        .option("--quiet", "no progress output");
    evalPpmCommand.addHelpText(
        "after",
        `
Scores prompt + pos and prompt + neg as search does (value head on the last token's final hidden state; PyTorch on
the same weights llama.cpp runs) and counts a pair right when pos scores higher. Kinds, from the step texts:
code_vs_code (neither step ends the solution), code_vs_answer (one side prints or states an answer, the other
continues with code), final_answer (both sides end the solution: they differ in the final answer). Intervals:
Wilson (pairs as independent) and a bootstrap over whole problems.

Example (held-out pairs from fresh problems, searched with the noisy teacher):
  rstar synth generate --out fresh --seed 4242 --train 200 --test 0 --ood 0
  rstar teacher serve --port 8090 &
  rstar search --dataset fresh/train.jsonl --policy-url http://127.0.0.1:8090/v1 --model rstar-synth-teacher --preset bootstrap --out fresh-run
  rstar extract ppm --run fresh-run --out fresh-pairs.jsonl --min-edit-distance 5 --final-pairs paper
  rstar train eval-ppm --ppm models/ppm --pairs fresh-pairs.jsonl

Exit codes: 0 ok; 1 scored, but some input lines were malformed (skipped); 2 bad usage or input;
3 no Python with torch; 70 internal error; 130 interrupted. See docs/training.md.`,
    );
    evalPpmCommand.action(action("train eval-ppm", (flags: EvalPpmFlags) => runEvalPpm(flags)));
}

function commonOptions(command: Command, defaultLr: string): void {
    command
        .option("--epochs <n>", "passes over the data (fractions allowed; default 1)", positiveNumber("--epochs"))
        .option("--max-steps <n>", "stop after this many optimizer steps (overrides --epochs)", positiveInt("--max-steps"))
        .option("--lr <x>", `peak learning rate (default ${defaultLr}; warmup then cosine decay)`, positiveNumber("--lr"))
        .option("--max-len <n>", "longest sequence in tokens (default 768)", positiveInt("--max-len"))
        .option("--threads <n>", "PyTorch threads", positiveInt("--threads"), 1)
        .option("--seed <n>", "seed (data order and initialisation)", positiveIntOrZero("--seed"))
        .option("--f32", "write F32 matrices (for parity tests) instead of F16")
        .option("--json", "print the result {files, metrics, issues} as JSON on stdout")
        .option("--quiet", "no progress output");
}

function commonTrainOptions(flags: CommonFlags) {
    return {
        out: flags.out,
        threads: flags.threads,
        ...(flags.epochs === undefined ? {} : { epochs: flags.epochs }),
        ...(flags.maxSteps === undefined ? {} : { maxSteps: flags.maxSteps }),
        ...(flags.lr === undefined ? {} : { lr: flags.lr }),
        ...(flags.maxLen === undefined ? {} : { maxLen: flags.maxLen }),
        ...(flags.seed === undefined ? {} : { seed: flags.seed }),
        ...(flags.f32 ? { f32: true } : {}),
    };
}

async function runSft(flags: SftFlags): Promise<ExitCodeValue> {
    if (!(PRESETS as readonly string[]).includes(flags.preset)) throw new RstarError("INVALID_ARGUMENT", `--preset must be one of ${PRESETS.join(", ")}, got "${flags.preset}"`);
    const options: SftOptions = {
        ...commonTrainOptions(flags),
        data: flags.data,
        preset: flags.preset as NonNullable<SftOptions["preset"]>,
        ...(flags.tokenizer === undefined ? {} : { tokenizer: flags.tokenizer }),
        ...(flags.merges === undefined ? {} : { merges: flags.merges }),
        ...(flags.init === undefined ? {} : { init: flags.init }),
        ...(flags.dim === undefined ? {} : { dim: flags.dim }),
        ...(flags.layers === undefined ? {} : { layers: flags.layers }),
        ...(flags.heads === undefined ? {} : { heads: flags.heads }),
        ...(flags.ffnDim === undefined ? {} : { ffnDim: flags.ffnDim }),
        ...(flags.batchTokens === undefined ? {} : { batchTokens: flags.batchTokens }),
        ...(flags.solveData === undefined ? {} : { solveData: flags.solveData }),
        ...(flags.solveCount === undefined ? {} : { solveCount: flags.solveCount }),
    };
    return withDisplay("train sft", flags, (hooks) => trainSft(options, hooks));
}

async function runPpm(flags: PpmFlags): Promise<ExitCodeValue> {
    const options: PpmOptions = {
        ...commonTrainOptions(flags),
        pairs: flags.pairs,
        base: flags.base,
        ...(flags.testPairs === undefined ? {} : { testPairs: flags.testPairs }),
        ...(flags.headLr === undefined ? {} : { headLr: flags.headLr }),
        ...(flags.batch === undefined ? {} : { batch: flags.batch }),
    };
    return withDisplay("train ppm", flags, (hooks) => trainPpm(options, hooks));
}

async function runEvalPpm(flags: EvalPpmFlags): Promise<ExitCodeValue> {
    const options: PpmEvalOptions = {
        ppm: flags.ppm,
        pairs: flags.pairs,
        threads: flags.threads,
        ...(flags.trainPairs === undefined ? {} : { trainPairs: flags.trainPairs }),
        ...(flags.tokenizer === undefined ? {} : { tokenizer: flags.tokenizer }),
        ...(flags.out === undefined ? {} : { out: flags.out }),
        ...(flags.scores === undefined ? {} : { scores: flags.scores }),
        ...(flags.batch === undefined ? {} : { batch: flags.batch }),
        ...(flags.maxLen === undefined ? {} : { maxLen: flags.maxLen }),
    };
    return withDisplay("train eval-ppm", flags, (hooks) => evalPpm(options, hooks));
}

async function withDisplay(
    label: string,
    flags: { json?: boolean; quiet?: boolean },
    run: (hooks: { onEvent: (event: TrainEvent) => void; onStderr: (line: string) => void; signal: AbortSignal }) => Promise<TrainResult>,
): Promise<ExitCodeValue> {
    const display = new TrainProgressDisplay(label, Boolean(process.stderr.isTTY), flags.quiet === true);
    const controller = new AbortController();
    const onSigint = () => controller.abort();
    process.once("SIGINT", onSigint);
    let result: TrainResult;
    try {
        result = await run({
            onEvent: (event) => display.update(event),
            onStderr: (line) => display.warn(line),
            signal: controller.signal,
        });
    } catch (error) {
        display.stop();
        if (RstarError.isInstance(error) && error.code === "ABORTED") {
            process.stderr.write(`rstar ${label}: interrupted\n`);
            return ExitCode.interrupted;
        }
        throw error;
    } finally {
        process.removeListener("SIGINT", onSigint);
    }
    display.stop();
    const heldout = result.metrics["heldout"] as HeldoutReport | undefined;
    if (!flags.quiet && heldout !== undefined && heldout !== null) for (const line of describeHeldout(heldout)) process.stderr.write(`${label}: ${line}\n`);
    if (!flags.quiet && Object.keys(result.files).length > 0) process.stderr.write(`${label}: wrote ${Object.values(result.files).join(", ")}\n`);
    if (flags.json) process.stdout.write(JSON.stringify(result) + "\n");
    return result.issues.length > 0 ? ExitCode.someRecordsMalformed : ExitCode.ok;
}

/** Trainer progress on stderr: a live bar on a terminal; otherwise step lines every few seconds, evals always. */
class TrainProgressDisplay {
    private bar: SingleBar | null = null;
    private lastStepLine = 0;

    constructor(
        private readonly label: string,
        private readonly interactive: boolean,
        private readonly quiet: boolean,
        private readonly intervalMs = 5_000,
    ) {}

    update(event: TrainEvent): void {
        if (this.quiet && event.event !== "issue") return;
        if (event.event === "step" && this.interactive) {
            this.updateBar(event);
            return;
        }
        if (event.event === "step" && performance.now() - this.lastStepLine < this.intervalMs && event.step !== event.steps && event.step !== 1) return;
        const line = describeTrainEvent(event);
        if (line === null) return;
        if (event.event === "step") this.lastStepLine = performance.now();
        this.print(`${this.label}: ${line}`);
    }

    warn(line: string): void {
        if (this.quiet || line.trim() === "") return;
        this.print(`${this.label}: ${line}`);
    }

    stop(): void {
        this.bar?.stop();
        this.bar = null;
    }

    private print(text: string): void {
        if (this.bar) {
            // keep the bar on its own line: clear it, print, redraw on the next update
            process.stderr.write("\r\x1b[K" + text + "\n");
        } else process.stderr.write(text + "\n");
    }

    private updateBar(event: TrainEvent): void {
        const payload = {
            loss: typeof event.loss === "number" ? event.loss.toFixed(4) : "-",
            rate: event.tokens_per_s !== undefined ? `${String(event.tokens_per_s)} tok/s` : `${String(event.pairs_per_s)} pairs/s`,
            epoch: String(event.epoch ?? "-"),
        };
        const total = Number(event.steps ?? 0);
        if (this.bar === null) {
            this.bar = new SingleBar({
                format: `${this.label} {bar} {value}/{total} steps | epoch {epoch} | loss {loss} | {rate} | ETA {eta_formatted}`,
                stream: process.stderr,
                hideCursor: true,
                barsize: 24,
            });
            this.bar.start(total, Number(event.step ?? 0), payload);
        } else this.bar.update(Number(event.step ?? 0), payload);
    }
}

function positiveNumber(flagName: string): (value: string) => number {
    return (value) => {
        const parsed = Number(value);
        if (!Number.isFinite(parsed) || parsed <= 0) throw new RstarError("INVALID_ARGUMENT", `${flagName} must be a positive number, got "${value}"`);
        return parsed;
    };
}

function positiveIntOrZero(flagName: string): (value: string) => number {
    return (value) => {
        const parsed = Number(value);
        if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(parsed)) throw new RstarError("INVALID_ARGUMENT", `${flagName} must be 0 or a positive integer, got "${value}"`);
        return parsed;
    };
}
