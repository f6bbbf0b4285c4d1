import { Option, type Command } from "commander";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadDataset } from "../../data/index.js";
import { RstarError } from "../../errors/index.js";
import { AdaptiveConcurrency, runPaths, runSearch, type RunSummary } from "../../runs/index.js";
import { PRESETS } from "../../search/index.js";
import { packageRoot } from "../../util/index.js";
import { ExitCode } from "../exit-codes.js";
import { ProgressDisplay, formatDuration } from "../progress-display.js";
import { action } from "../run-command.js";
import { addSearchOptions, integer, resolveSettings, type SearchFlags } from "../search-options.js";
import { openServices, type ServiceFlags } from "../services.js";

interface SearchCommandFlags extends SearchFlags, ServiceFlags {
    dataset?: string;
    out?: string;
    resume?: boolean;
    limit?: number;
    concurrency?: number;
    maxInFlight: number;
    json?: boolean;
    quiet?: boolean;
    listPresets?: boolean;
}

export function register(program: Command): void {
    const command = program
        .command("search")
        .description("search every problem of a dataset with a policy server (MCTS, beam, best-of-N or greedy) into a durable run directory")
        .option("--dataset <file>", "JSON or JSONL records with question and answer (the benchmark files load as they are)")
        .option("--out <dir>", "run directory: config.json, store.sqlite, results.jsonl, trees.jsonl")
        .option("--resume", "continue the run in --out: keep finished problems, redo the rest")
        .option("--limit <n>", "search only the first n problems", integer("--limit"))
        .option("--concurrency <n>", "problems searched at once, pinned (default: adaptive for a policy server, 8 for the shipped policy)", integer("--concurrency"))
        .addOption(new Option("--max-in-flight <n>", "adaptive concurrency: most problems in flight (256: vLLM's default max_num_seqs)").default(256).argParser(integer("--max-in-flight")))
        .option("--json", "print the summary as JSON on stdout")
        .option("--quiet", "no progress output")
        .option("--list-presets", "list the presets with their settings and provenance, then exit");
    addSearchOptions(command, "bootstrap");
    command.addHelpText(
        "after",
        `
Against a policy server (--policy-url), problems in flight adapt unless --concurrency pins them: from 8, the number
grows while the server's throughput rises and backs off when its latency climbs or it answers 429/503, up to
--max-in-flight (policy requests in flight follow, unless --max-requests is given). Results do not depend on it.
Settings resolve as: preset, then --config FILE, then flags. Progress goes to stderr (a live bar on a terminal,
a line every 10 s otherwise). Ctrl-C stops after recording finished problems; --resume continues.
The summary gives "solved" (problems where any rollout's answer was correct) and the accuracy of the selected
answers; accuracy is not reported under ground-truth terminal reward (bootstrap, sample), where selection sees the
gold answer and would equal "solved". --json: accuracy (null then), passAny, selectionSawGold.
Exit codes: 0 all problems searched; 1 some problems failed on their own (recorded with an error);
2 bad usage or input; 3 policy server or Python unavailable; 130 interrupted.

Example:
  rstar search --dataset ../shared/data/benchmarks/gsm8k_test.json --policy-url http://127.0.0.1:8000/v1 \\
    --model qwen2.5-math-7b --preset bootstrap --out runs/gsm8k-r1 --limit 100`,
    );
    command.action(action("search", async (flags: SearchCommandFlags) => searchCommand(flags)));
}

async function searchCommand(flags: SearchCommandFlags) {
    if (flags.listPresets) {
        if (flags.json) process.stdout.write(JSON.stringify(PRESETS, null, 2) + "\n");
        else for (const preset of Object.values(PRESETS)) process.stdout.write(`${preset.name}: ${preset.description}\n  from: ${preset.provenance}\n  ${JSON.stringify(preset.settings)}\n\n`);
        return ExitCode.ok;
    }
    if (flags.dataset === undefined) throw new RstarError("INVALID_ARGUMENT", "--dataset is required");
    if (flags.out === undefined) throw new RstarError("INVALID_ARGUMENT", "--out is required");
    const settings = resolveSettings(flags);
    const all = await loadDataset(flags.dataset);
    const problems = flags.limit === undefined ? all : all.slice(0, flags.limit);
    // Adaptive runs let the policy client send as many requests as the problems in flight can make.
    const adaptiveMaxRequests = flags.concurrency === undefined && flags.maxRequests === undefined ? flags.maxInFlight * settings.parallelRollouts : undefined;
    const services = await openServices({ ...flags, ...(adaptiveMaxRequests !== undefined ? { maxRequests: Math.max(64, adaptiveMaxRequests) } : {}) }, settings);
    let concurrency: number | AdaptiveConcurrency = flags.concurrency ?? 8;
    if (flags.concurrency === undefined && services.remotePolicy) {
        const adaptive = new AdaptiveConcurrency({ initial: Math.min(8, flags.maxInFlight), max: flags.maxInFlight });
        services.onOverload(() => adaptive.overloaded());
        concurrency = adaptive;
    }
    const controller = new AbortController();
    const interrupt = () => controller.abort(new RstarError("ABORTED", "interrupted"));
    process.once("SIGINT", interrupt);
    process.once("SIGTERM", interrupt);
    const display = new ProgressDisplay("search", undefined, undefined, flags.quiet ?? false);
    let summary: RunSummary;
    try {
        summary = await runSearch({
            dir: flags.out,
            resume: flags.resume ?? false,
            datasetPath: flags.dataset,
            problems,
            settings,
            preset: flags.preset,
            services,
            concurrency,
            versions: versions(),
            signal: controller.signal,
            onProgress: (progress) => display.update(progress),
        });
    } finally {
        display.stop();
        process.off("SIGINT", interrupt);
        process.off("SIGTERM", interrupt);
        await services.close();
    }
    printSummary(summary, flags.out, flags.json ?? false);
    if (summary.aborted) return ExitCode.interrupted;
    return summary.failed > 0 ? ExitCode.someRecordsMalformed : ExitCode.ok;
}

function printSummary(summary: RunSummary, dir: string, json: boolean): void {
    const paths = runPaths(dir);
    if (json) {
        process.stdout.write(JSON.stringify({ ...summary, results: paths.results, trees: paths.trees }) + "\n");
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
        ].join("\n") + "\n",
    );
}

export function versions(): Record<string, string> {
    const pkg = JSON.parse(readFileSync(join(packageRoot(), "package.json"), "utf8")) as { version: string };
    return { "rstar-math": pkg.version, node: process.version };
}
