import { Option, type Command } from "commander";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { loadDataset } from "../../data/index.js";
import { RstarError } from "../../errors/index.js";
import { AdaptiveConcurrency, readRunConfig, runPaths, runSearch, type RunConfig, type RunSummary } from "../../runs/index.js";
import { PRESETS, type SearchSettings } from "../../search/index.js";
import type { DatasetProblem } from "../../data/index.js";
import { packageRoot } from "../../util/index.js";
import { ExitCode } from "../exit-codes.js";
import { ProgressDisplay, formatDuration } from "../progress-display.js";
import { action } from "../run-command.js";
import { failureReasons, formatFailureReasons } from "../failure-reasons.js";
import { onInterrupt } from "../interrupt.js";
import { addSearchOptions, defaultSettingsBase, integer, resolveSettings, type SearchFlags } from "../search-options.js";
import { SHIPPED_POLICY_MODEL, needsRewardModel, openServices, type ServiceFlags } from "../services.js";

interface SearchCommandFlags extends SearchFlags, ServiceFlags {
    dataset?: string;
    questionField?: string;
    answerField?: string;
    out?: string;
    resume?: boolean;
    limit?: number;
    concurrency?: number;
    maxInFlight: number;
    json?: boolean;
    quiet?: boolean;
    listPresets?: boolean;
    queue?: string;
    workerModels?: string;
    queueWindow: number;
    queueBatch: number;
    attempts: number;
    retryDelayMs: number;
}

/** Flags stored in config.json (`invocation`) so that `--resume` needs only `--out`. */
const INVOCATION_KEYS = ["dataset", "questionField", "answerField", "policy", "policyUrl", "model", "ppm", "rewardUrl", "rewardModel", "valueHead", "prm", "prmAggregate", "chatTemplate", "queue", "workerModels"] as const;

export function register(program: Command): void {
    const command = program
        .command("search")
        .description("search every problem of a dataset with a policy server (MCTS, beam, best-of-N or greedy) into a durable run directory")
        .option("--dataset <file>", "JSON or JSONL records with question and answer (the benchmark files in data/benchmarks load as they are)")
        .option("--question-field <name>", "the records' question field (default: question; e.g. problem for many HF datasets)")
        .option("--answer-field <name>", "the records' gold answer field (default: answer; e.g. gt)")
        .option("--out <dir>", "run directory: config.json, store.sqlite, results.jsonl, trees.jsonl")
        .option("--resume", "continue the run in --out: keep finished problems, redo the rest (dataset, servers and settings come from its config.json)")
        .option("--limit <n>", "search only the first n problems", integer("--limit"))
        .option("--concurrency <n>", "problems searched at once, pinned (default: adaptive for a policy server, 8 for the shipped policy)", integer("--concurrency"))
        .addOption(new Option("--max-in-flight <n>", "adaptive concurrency: most problems in flight (256: vLLM's default max_num_seqs)").default(256).argParser(integer("--max-in-flight")))
        .option("--json", "print the summary as JSON on stdout")
        .option("--quiet", "no progress output")
        .option("--list-presets", "list the presets with their settings and provenance, then exit")
        .option("--queue <url>", "distributed run: enqueue the problems in Redis (redis://HOST:PORT[/DB], rediss:// for TLS) for `rstar worker` processes on the GPU hosts and collect their results here (docs/distributed.md)")
        .option("--worker-models <file>", "--queue: the policy and reward model every worker serves for this run (JSON; rstar evolve --queue writes round-N/worker-models-*.json): the workers start these servers on their own hosts after checking the checkpoints' sha256 (docs/distributed.md)")
        .addOption(new Option("--queue-window <n>", "--queue: most problems in Redis at once").default(256).argParser(integer("--queue-window")))
        .addOption(new Option("--queue-batch <n>", "--queue: finished problems read from Redis at once (the most results held in memory)").default(16).argParser(integer("--queue-batch")))
        .addOption(new Option("--attempts <n>", "--queue: attempts per problem before it is recorded as failed").default(3).argParser(integer("--attempts")))
        .addOption(new Option("--retry-delay-ms <ms>", "--queue: wait before a failed problem's 2nd attempt (doubles after)").default(5000).argParser(integer("--retry-delay-ms")));
    addSearchOptions(command, "sample with the shipped policy, bootstrap with --policy or --policy-url");
    command.addHelpText(
        "after",
        `
Settings resolve as: preset, then --config FILE, then flags; each value is range-checked. Without --preset the
default fits the policy: the shipped tiny policy (no --policy or --policy-url; SFT-trained, 1,024-token context) gets
\`sample\` (SFT prompt, gold-answer reward, PPM leaf values); a local GGUF (--policy) or a server (--policy-url) gets
\`bootstrap\` (few-shot prompt for a strong instruction-tuned model; with --policy it goes through the GGUF's own chat
template when it has one, --no-chat-template sends it raw).
--policy FILE.gguf runs any llama.cpp model in-process: on the GPU when node-llama-cpp finds a usable one (--gpu auto;
--gpu off|cuda|vulkan|metal, --gpu-layers N|max), the context size fitted to the free memory (1,024 to 4,096 tokens);
the model, its placement, context, batch and parallel sequences are printed on stderr. A model that does not fit the
free RAM/VRAM (or RSTAR_MAX_RAM / RSTAR_MAX_VRAM) fails with exit 3 before anything is allocated. \`bootstrap\` and \`sample\` reward answers by the gold answer: every record needs
one (--answer-field names its field), or pass --terminal-reward reward-model.
The shipped models only know the synthetic word-problem domain (models/heldout/test.jsonl); benchmark sets such as
data/benchmarks/math500_test.json need a real policy server.
Against a policy server (--policy-url), problems in flight adapt unless --concurrency pins them: from 8, the number
grows while the server's throughput rises and backs off when its latency climbs or it answers 429/503, up to
--max-in-flight (policy requests in flight follow, unless --max-requests is given). Results do not depend on it.
The summary gives "solved" (problems where any rollout's answer was correct) and the accuracy of the selected
answers; accuracy is not reported under ground-truth terminal reward (bootstrap, sample), where selection sees the
gold answer and would equal "solved". --json: accuracy (null then), passAny, selectionSawGold.

Distributed (--queue URL): this process is the coordinator. It writes the same run directory, but the problems go
to a BullMQ queue in Redis named by the run id, and \`rstar worker --queue URL --policy-url …\` processes on any
number of hosts search them; --model names the model the workers' servers serve (default: the shipped tiny policy,
for workers started without --policy-url). Results equal a single-process run's. Killing this process loses
nothing: the workers go on, and \`rstar search --out DIR --resume\` collects what finished meanwhile (the URL is
stored without its password: pass --queue again, or set RSTAR_REDIS_PASSWORD). --worker-models FILE names the policy
and reward model the workers start themselves for this run (JSON: evolve endpoints, checkpoints and their sha256; a
worker whose files differ refuses the jobs); \`rstar evolve --queue\` writes one per round. When the run completes,
results.jsonl and trees.jsonl are written in dataset order.

Progress goes to stderr (a live bar on a terminal, a line every 10 s otherwise). Ctrl-C stops after recording
finished problems and prints the command that resumes; \`rstar search --out DIR --resume\` takes the dataset,
servers and settings from DIR/config.json (flags that would change results are refused).
Exit codes: 0 all problems searched; 1 some problems failed on their own (recorded with an error, reasons counted
in the summary); 2 bad usage or input; 3 policy server or Python unavailable; 130 interrupted.

Examples:
  rstar search --dataset models/heldout/test.jsonl --limit 5 --out runs/tiny     # shipped models, offline
  rstar search --dataset data/benchmarks/GSM8K_test.json --policy ~/models/qwen2.5-math-1.5b-instruct-q4_k_m.gguf \\
    --limit 20 --out runs/gsm8k-local                                            # a local GGUF, GPU if any
  rstar search --dataset data/benchmarks/GSM8K_test.json --policy-url http://127.0.0.1:8000/v1 \\
    --model qwen2.5-math-7b --preset bootstrap --out runs/gsm8k-r1 --limit 100
  rstar search --out runs/gsm8k-r1 --resume
  rstar search --dataset data/benchmarks/GSM8K_test.json --queue redis://10.0.0.5:6379 --model qwen2.5-math-7b \\
    --preset bootstrap --out runs/gsm8k-r1     # with \`rstar worker --queue redis://10.0.0.5:6379 …\` on each GPU host`,
    );
    command.action(action("search", async (flags: SearchCommandFlags) => searchCommand(flags)));
}

async function searchCommand(flags: SearchCommandFlags) {
    if (flags.listPresets) {
        if (flags.json) process.stdout.write(JSON.stringify(PRESETS, null, 2) + "\n");
        else for (const preset of Object.values(PRESETS)) process.stdout.write(`${preset.name}: ${preset.description}\n  from: ${preset.provenance}\n  ${JSON.stringify(preset.settings)}\n\n`);
        return ExitCode.ok;
    }
    const out = flags.out;
    if (out === undefined) throw new RstarError("INVALID_ARGUMENT", "--out is required");
    const stored = flags.resume ? await storedRun(out) : null;
    if (stored !== null) flags = withStoredInvocation(flags, stored);
    const dataset = flags.dataset;
    if (dataset === undefined) throw new RstarError("INVALID_ARGUMENT", flags.resume ? `--dataset is required: ${out} has no config.json to resume from` : "--dataset is required");
    if (stored !== null && flags.preset !== undefined && flags.preset !== stored.preset) {
        throw new RstarError("RUN_CONFLICT", `cannot resume ${out}: it was started with preset ${String(stored.preset)}, not ${flags.preset}`);
    }
    const queueUrl = flags.queue;
    const workerModels = flags.workerModels === undefined ? undefined : await loadWorkerModels(flags.workerModels, queueUrl, flags.model);
    if (workerModels !== undefined) flags = { ...flags, model: workerModels.model };
    const base =
        stored !== null
            ? { preset: stored.preset, settings: stored.settings }
            : defaultSettingsBase("search", queueUrl !== undefined ? { ...flags, ...(flags.model !== undefined && flags.model !== SHIPPED_POLICY_MODEL ? { policyUrl: [queueUrl] } : {}) } : flags);
    const settings = resolveSettings(flags, base.settings);
    const all = await loadDataset(dataset, {
        requireAnswers: settings.terminalReward === "ground-truth",
        ...(flags.questionField !== undefined ? { questionField: flags.questionField } : {}),
        ...(flags.answerField !== undefined ? { answerField: flags.answerField } : {}),
    });
    const limit = flags.limit ?? (stored !== null && stored.dataset.problems < all.length ? stored.dataset.problems : undefined);
    const problems = limit === undefined ? all : all.slice(0, limit);
    if (queueUrl !== undefined) return queueSearch(flags, queueUrl, { out, dataset, problems, settings, preset: base.preset }, workerModels);
    // Adaptive runs let the policy client send as many requests as the problems in flight can make.
    const adaptiveMaxRequests = flags.concurrency === undefined && flags.maxRequests === undefined ? flags.maxInFlight * settings.parallelRollouts : undefined;
    const serviceFlags = { ...flags, ...(adaptiveMaxRequests !== undefined ? { maxRequests: Math.max(64, adaptiveMaxRequests) } : {}) };
    const controller = new AbortController();
    const stopListening = onInterrupt(() => controller.abort(new RstarError("ABORTED", "interrupted")));
    let summary: RunSummary;
    try {
        const services = await openServices(serviceFlags, settings);
        let concurrency: number | AdaptiveConcurrency = flags.concurrency ?? 8;
        if (flags.concurrency === undefined && services.remotePolicy) {
            const adaptive = new AdaptiveConcurrency({ initial: Math.min(8, flags.maxInFlight), max: flags.maxInFlight });
            services.onOverload(() => adaptive.overloaded());
            concurrency = adaptive;
        }
        const display = new ProgressDisplay("search", undefined, undefined, flags.quiet ?? false);
        try {
            summary = await runSearch({
                dir: out,
                resume: flags.resume ?? false,
                datasetPath: dataset,
                problems,
                settings,
                preset: base.preset,
                services,
                concurrency,
                versions: versions(),
                invocation: invocation(flags),
                signal: controller.signal,
                onProgress: (progress) => display.update(progress),
            });
        } finally {
            display.stop();
            await services.close();
        }
    } finally {
        stopListening();
    }
    printSummary(summary, out, flags.json ?? false);
    if (summary.aborted) {
        process.stderr.write(
            `interrupted: ${summary.finished} of ${summary.total} problems are finished and kept in ${out}; continue with:\n  rstar search --out ${shellQuote(out)} --resume\n`,
        );
        return ExitCode.interrupted;
    }
    return summary.failed > 0 ? ExitCode.someRecordsMalformed : ExitCode.ok;
}

/** `--queue`: this process coordinates; `rstar worker` processes search. */
async function queueSearch(flags: SearchCommandFlags, queueUrl: string, run: { out: string; dataset: string; problems: DatasetProblem[]; settings: SearchSettings; preset: string | null }, workerModels: LoadedWorkerModels | undefined) {
    if ((flags.policyUrl ?? []).length > 0 || flags.policy !== undefined) {
        throw new RstarError("INVALID_ARGUMENT", "--policy-url and --policy go to the workers in a --queue run (rstar worker --policy-url); the coordinator takes --model, the name their servers serve");
    }
    // Imported here: plain runs do not load BullMQ.
    const { parseQueueUrl, runQueueSearch } = await import("../../queue/index.js");
    // A stored URL has its password removed ("***"); the password then comes from RSTAR_REDIS_PASSWORD.
    const connection = parseQueueUrl(queueUrl.replace(/:\*\*\*@/, "@"));
    const controller = new AbortController();
    const stopListening = onInterrupt(() => controller.abort(new RstarError("ABORTED", "interrupted")));
    const quiet = flags.quiet ?? false;
    const display = new ProgressDisplay("search", undefined, undefined, quiet);
    let summary: Awaited<ReturnType<typeof runQueueSearch>>;
    try {
        summary = await runQueueSearch({
            dir: run.out,
            resume: flags.resume ?? false,
            datasetPath: run.dataset,
            problems: run.problems,
            settings: run.settings,
            preset: run.preset,
            connection,
            model: flags.model ?? SHIPPED_POLICY_MODEL,
            rewardModel: queueRewardModel(run.settings, workerModels),
            ...(workerModels !== undefined ? { workerModels: workerModels.descriptor } : {}),
            window: flags.queueWindow,
            batch: flags.queueBatch,
            attempts: flags.attempts,
            retryDelayMs: flags.retryDelayMs,
            versions: versions(),
            invocation: { ...invocation(flags), queue: connection.display },
            signal: controller.signal,
            onProgress: (progress) => display.update(progress),
            log: (line) => {
                if (!quiet) process.stderr.write(`search: ${line}\n`);
            },
        });
    } finally {
        display.stop();
        stopListening();
    }
    printSummary(summary, run.out, flags.json ?? false);
    if (summary.aborted) {
        process.stderr.write(
            `interrupted: ${summary.finished} of ${summary.total} problems are finished and kept in ${run.out}; the workers go on with the queued ones; collect them with:\n  rstar search --out ${shellQuote(run.out)} --resume\n`,
        );
        return ExitCode.interrupted;
    }
    return summary.failed > 0 ? ExitCode.someRecordsMalformed : ExitCode.ok;
}

export interface LoadedWorkerModels {
    /** The resolved descriptor the jobs carry. */
    descriptor: Record<string, unknown>;
    /** The model name its policy server serves. */
    model: string;
    /** How config.json names its reward model (null: none). */
    reward: string | null;
}

/** `--worker-models FILE` (with --queue only): read, validated and resolved; its model must be --model when both are given. */
export async function loadWorkerModels(file: string, queue: string | undefined, model: string | undefined): Promise<LoadedWorkerModels> {
    if (queue === undefined) throw new RstarError("INVALID_ARGUMENT", "--worker-models names what the workers of a --queue run serve; it needs --queue");
    // Imported here: runs without worker models do not load the evolve module.
    const { readWorkerModels, servedModel, describeReward } = await import("../../evolve/index.js");
    const models = await readWorkerModels(file);
    const served = servedModel(models);
    if (model !== undefined && model !== served) throw new RstarError("INVALID_ARGUMENT", `--model ${model} differs from the model ${file} serves (${served}); leave --model out or make them equal`);
    return { descriptor: models as unknown as Record<string, unknown>, model: served, reward: describeReward(models) };
}

/** How a queue run's config.json names its reward model. */
export function queueRewardModel(settings: SearchSettings, workerModels: LoadedWorkerModels | undefined): string | null {
    if (!needsRewardModel(settings)) return null;
    if (workerModels === undefined) return "each worker's (rstar worker --ppm / --reward-url)";
    if (workerModels.reward === null) throw new RstarError("INVALID_ARGUMENT", "these settings score with a reward model, but --worker-models names none (reward: null)");
    return workerModels.reward;
}

async function storedRun(dir: string): Promise<RunConfig | null> {
    const path = runPaths(dir).config;
    return existsSync(path) ? readRunConfig(path) : null;
}

/** Flags not given on the command line are taken from the run's stored invocation (and its dataset path). */
function withStoredInvocation(flags: SearchCommandFlags, stored: RunConfig): SearchCommandFlags {
    const merged: Record<string, unknown> = { ...flags };
    const from = stored.invocation ?? { dataset: stored.dataset.path };
    for (const key of INVOCATION_KEYS) if (merged[key] === undefined && from[key] !== undefined && from[key] !== null) merged[key] = from[key];
    return merged as unknown as SearchCommandFlags;
}

function invocation(flags: SearchCommandFlags): Record<string, unknown> {
    const stored: Record<string, unknown> = {};
    for (const key of INVOCATION_KEYS) {
        const value = flags[key];
        if (value !== undefined) stored[key] = key === "dataset" || key === "ppm" || key === "valueHead" || key === "policy" || key === "workerModels" ? resolve(value as string) : value;
    }
    return stored;
}

function shellQuote(text: string): string {
    return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, "'\\''")}'`;
}

function printSummary(summary: RunSummary, dir: string, json: boolean): void {
    const paths = runPaths(dir);
    const failures = failureReasons(paths.results);
    if (json) {
        process.stdout.write(JSON.stringify({ ...summary, failures, results: paths.results, trees: paths.trees }) + "\n");
        return;
    }
    const percent = (value: number | null) => (value === null ? "-" : `${(100 * value).toFixed(1)}%`);
    process.stdout.write(
        [
            `problems   ${summary.finished}/${summary.total} finished (${summary.resumed} from before, ${summary.failed} failed)${summary.aborted ? ", interrupted" : ""}`,
            summary.selectionSawGold
                ? `accuracy   not reported: answers were selected by their reward from the gold answer (terminal reward ground-truth)`
                : `accuracy   ${percent(summary.accuracy)} (selected answer)`,
            `solved     ${percent(summary.passAny)} (any rollout correct)`,
            `time       ${formatDuration(summary.durationMs)}`,
            `results    ${paths.results}`,
            `trees      ${paths.trees}`,
            ...formatFailureReasons(failures),
        ].join("\n") + "\n",
    );
}

export function versions(): Record<string, string> {
    const pkg = JSON.parse(readFileSync(join(packageRoot(), "package.json"), "utf8")) as { version: string };
    return { "rstar-math": pkg.version, node: process.version };
}
