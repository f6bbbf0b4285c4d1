import { Option, type Command } from "commander";
import { BENCHMARK_NAMES, benchmarkPath, loadDataset } from "../../data/index.js";
import { RstarError } from "../../errors/index.js";
import { methodPreset, methodSettings, parseMethod, runEval, checkEvalSettings, type EvalSummary, type RunEvalOptions } from "../../eval/index.js";
import { ExitCode } from "../exit-codes.js";
import { ProgressDisplay, formatDuration } from "../progress-display.js";
import { action } from "../run-command.js";
import { addSearchOptions, integer, resolveSettings, usesShippedPolicy, type SearchFlags } from "../search-options.js";
import { SHIPPED_POLICY_MODEL, openServices, type ServiceFlags } from "../services.js";
import type { RunSearchOptions } from "../../runs/index.js";
import type { SearchSettings } from "../../search/index.js";
import { loadWorkerModels, queueRewardModel, versions, type LoadedWorkerModels } from "./search.js";

interface EvalCommandFlags extends Omit<SearchFlags, "preset">, ServiceFlags {
    preset?: string;
    dataset?: string;
    benchmark?: string;
    method: string;
    out?: string;
    resume?: boolean;
    limit?: number;
    concurrency: number;
    draws: number;
    json?: boolean;
    quiet?: boolean;
    queue?: string;
    workerModels?: string;
}

export function register(program: Command): void {
    const command = program
        .command("eval")
        .description("evaluate a method on a dataset or benchmark: accuracy with 95% intervals, majority / weighted vote, pass@K (oracle), cost, test-time scaling")
        .option("--dataset <file>", "JSON or JSONL records with question and answer")
        .addOption(new Option("--benchmark <name>", "one of the nine official sets shipped in data/benchmarks/").choices(BENCHMARK_NAMES))
        .option("--method <method>", "greedy | maj@K | bon@K | beam | mcts (K = trajectories; bon@K picks by the reward model)", "greedy")
        .option("--out <dir>", "run directory: the search run (config.json, store.sqlite, results.jsonl, trees.jsonl) plus eval.json and problems.jsonl")
        .option("--resume", "continue the evaluation in --out: keep finished problems, redo the rest")
        .option("--limit <n>", "evaluate only the first n problems", integer("--limit"))
        .addOption(new Option("--concurrency <n>", "problems searched at once").default(4).argParser(integer("--concurrency")))
        .addOption(new Option("--draws <n>", "subsample draws per point of the test-time-scaling curve").default(8).argParser(integer("--draws")))
        .option("--json", "print the summary (eval.json) as one JSON object on stdout")
        .option("--quiet", "no progress output")
        .option("--queue <url>", "distributed: the searches go through Redis (redis://HOST:PORT[/DB]) to `rstar worker`s, as with `rstar search --queue`; --model names the workers' model; pass it again with --resume (docs/distributed.md)")
        .option("--worker-models <file>", "--queue: the policy and reward model the workers serve for this evaluation (as rstar search --worker-models; pass it again with --resume)");
    addSearchOptions(command);
    command.addHelpText(
        "after",
        `
Settings resolve as: the method's preset (greedy, best-of-n, eval-beam, eval-mcts; --preset replaces it), then
--config FILE, then flags. With the shipped tiny models (no --policy or --policy-url) steps are one per request, 256
tokens each, and sampling methods use temperature 0.5. --policy FILE.gguf runs a local model in-process (see rstar search --help: --gpu, --gpu-layers, chat template).
The search never sees the gold answer: terminal rewards come from the reward model or nothing (--terminal-reward
ground-truth is refused); answers are graded after selection. pass@K is an oracle and is labelled so.
Exit codes: 0 ok; 1 some problems failed on their own; 2 bad usage or input; 3 server or Python unavailable; 130 interrupted.

Examples:
  rstar eval --dataset models/heldout/test.jsonl --method mcts --limit 50 --out runs/eval-mcts
  rstar eval --benchmark math500 --method maj@8 --policy-url http://127.0.0.1:8000/v1 --model qwen --out runs/m500-maj8
  rstar eval --benchmark gsm8k --method greedy --policy ~/models/qwen2.5-math-7b-instruct-q4_k_m.gguf --limit 50 --out runs/gsm8k-local`,
    );
    command.action(action("eval", async (flags: EvalCommandFlags) => evalCommand(flags)));
}

async function evalCommand(flags: EvalCommandFlags) {
    if ((flags.dataset === undefined) === (flags.benchmark === undefined)) throw new RstarError("INVALID_ARGUMENT", "give exactly one of --dataset FILE or --benchmark NAME");
    if (flags.out === undefined) throw new RstarError("INVALID_ARGUMENT", "--out is required");
    const method = parseMethod(flags.method);
    if (flags.queue !== undefined && ((flags.policyUrl ?? []).length > 0 || flags.policy !== undefined)) {
        throw new RstarError("INVALID_ARGUMENT", "--policy-url and --policy go to the workers in a --queue evaluation (rstar worker --policy-url); this process takes --model, the name their servers serve");
    }
    const workerModels = flags.workerModels === undefined ? undefined : await loadWorkerModels(flags.workerModels, flags.queue, flags.model);
    const queueModel = workerModels?.model ?? flags.model ?? SHIPPED_POLICY_MODEL;
    const shipped = flags.queue !== undefined ? queueModel === SHIPPED_POLICY_MODEL : usesShippedPolicy(flags);
    const settings = resolveSettings(flags, methodSettings(method, shipped, flags.preset));
    checkEvalSettings(settings);
    const datasetPath = flags.dataset ?? benchmarkPath(flags.benchmark as string);
    const all = await loadDataset(datasetPath);
    const problems = flags.limit === undefined ? all : all.slice(0, flags.limit);
    if (problems.length === 0) throw new RstarError("INVALID_INPUT", `${datasetPath} has no problems`);
    const queued = flags.queue === undefined ? undefined : await queueSearch(flags.queue, queueModel, settings, workerModels);
    // With --queue the workers search; the services here only grade (the shipped policy is not loaded: it loads on first use).
    const services = await openServices(flags, settings);
    const controller = new AbortController();
    const interrupt = () => controller.abort(new RstarError("ABORTED", "interrupted"));
    process.once("SIGINT", interrupt);
    process.once("SIGTERM", interrupt);
    const display = new ProgressDisplay(`eval ${method.label}`, undefined, undefined, flags.quiet ?? false);
    let summary: EvalSummary;
    try {
        ({ summary } = await runEval({
            dir: flags.out,
            resume: flags.resume ?? false,
            datasetPath,
            problems,
            settings,
            method: method.label,
            preset: flags.preset ?? methodPreset(method),
            services,
            concurrency: flags.concurrency,
            versions: versions(),
            draws: flags.draws,
            ...(queued !== undefined ? { search: queued.search, policyName: queued.policyName } : {}),
            signal: controller.signal,
            onProgress: (progress) => display.update(progress),
        }));
    } finally {
        display.stop();
        process.off("SIGINT", interrupt);
        process.off("SIGTERM", interrupt);
        await services.close();
    }
    if (flags.json) process.stdout.write(JSON.stringify(summary) + "\n");
    else process.stdout.write(formatSummary(summary));
    if (summary.interrupted) {
        process.stderr.write(`interrupted: ${summary.problems} problems kept; continue with: rstar eval ... --out ${flags.out} --resume\n`);
        return ExitCode.interrupted;
    }
    return summary.failed > 0 ? ExitCode.someRecordsMalformed : ExitCode.ok;
}

/** `--queue`: a search that enqueues the problems for `rstar worker`s and collects their results. */
async function queueSearch(url: string, model: string, settings: SearchSettings, workerModels: LoadedWorkerModels | undefined): Promise<{ search: NonNullable<RunEvalOptions["search"]>; policyName: string }> {
    // Imported here: plain evaluations do not load BullMQ.
    const { parseQueueUrl, runQueueSearch } = await import("../../queue/index.js");
    const connection = parseQueueUrl(url);
    const search = ({ services: _services, concurrency: _concurrency, ...options }: RunSearchOptions) =>
        runQueueSearch({ ...options, connection, model, rewardModel: queueRewardModel(settings, workerModels), ...(workerModels !== undefined ? { workerModels: workerModels.descriptor } : {}) });
    return { search, policyName: `queue:${connection.display} model ${model}` };
}

const percent = (value: number) => `${(100 * value).toFixed(1)}%`;
const interval = (ci: { low: number; high: number }) => `[${percent(ci.low)}, ${percent(ci.high)}]`;

export function formatSummary(summary: EvalSummary): string {
    const topK = (k: number) => (k > 0 ? `top ${k}` : "all");
    const lines = [
        `method        ${summary.method} on ${summary.dataset}`,
        `problems      ${summary.problems} graded of ${summary.total}${summary.failed > 0 ? ` (${summary.failed} failed)` : ""}${summary.interrupted ? ", interrupted" : ""}`,
        `accuracy      ${percent(summary.accuracy)} ${interval(summary.ci95)}  (the method's selected answer, 95% Wilson)`,
        `top value     ${percent(summary.top_value.accuracy)} ${interval(summary.top_value.ci95)}`,
        `majority      ${percent(summary.majority.accuracy)} ${interval(summary.majority.ci95)}  (${topK(summary.majority.top_k)})`,
        `weighted      ${percent(summary.weighted.accuracy)} ${interval(summary.weighted.ci95)}  (${topK(summary.weighted.top_k)})`,
        `pass@${summary.pass_at_k.k} oracle ${percent(summary.pass_at_k.accuracy)} ${interval(summary.pass_at_k.ci95)}  (some trajectory correct; looks at the gold answer)`,
        `cost          ${summary.tokens_per_problem.toFixed(0)} tokens, ${summary.requests_per_problem.toFixed(1)} requests, ${summary.seconds_per_problem.toFixed(2)} s per problem; ${formatDuration(summary.wall_seconds * 1000)} wall`,
    ];
    const ks = [...new Set(summary.scaling.map((point) => point.k))];
    if (ks.length > 1) {
        lines.push("scaling       k: " + ks.join(" "));
        for (const method of ["majority", "weighted", "reward model"] as const) {
            const row = summary.scaling.filter((point) => point.method === method).map((point) => percent(point.mean));
            lines.push(`  ${method.padEnd(12)} ${row.join(" ")}`);
        }
    }
    lines.push(`out           ${summary.out} (eval.json, problems.jsonl; rstar report ${summary.out})`);
    return lines.join("\n") + "\n";
}
