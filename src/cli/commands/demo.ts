import type { Command } from "commander";
import { join } from "node:path";
import { locateShippedModels, runDemo, type DemoRow } from "../../demo/index.js";
import { RstarError } from "../../errors/index.js";
import { defaultThreadCount } from "../../llm/index.js";
import { ExitCode } from "../exit-codes.js";
import { onInterrupt } from "../interrupt.js";
import { ProgressDisplay } from "../progress-display.js";
import { action } from "../run-command.js";
import { integer } from "../search-options.js";
import { isPlainObject } from "../../util/index.js";
import { versions } from "./search.js";

interface DemoFlags {
    problems: number;
    rollouts: number;
    candidates: number;
    samples: number;
    threads?: number;
    out?: string;
    models?: string;
    teacher: boolean;
    seed: number;
    concurrency?: number;
    json?: boolean;
    quiet?: boolean;
}

export function register(program: Command): void {
    program
        .command("demo")
        .description("offline demo, a preset over rstar eval: the shipped tiny policy on held-out synthetic problems, greedy, maj@K and MCTS + the shipped PPM")
        .option("--problems <n>", "held-out problems per split (test: 2-6 steps as in training; ood: 7-8 steps, never seen)", integer("--problems"), 20)
        .option("--rollouts <n>", "MCTS rollouts per problem", integer("--rollouts"), 8)
        .option("--candidates <n>", "candidate steps per expansion", integer("--candidates"), 4)
        .option("--samples <k>", "trajectories of the majority-vote row (maj@K)", integer("--samples"), 4)
        .option("--threads <n>", "llama.cpp threads (default: cores - 1, at least 1)", integer("--threads"))
        .option("--out <dir>", "where the runs go (default runs/demo-<time>)")
        .option("--models <dir>", "the models directory (default: the package's models/)")
        .option("--no-teacher", "skip the noisy teacher's greedy row")
        .option("--seed <n>", "base seed for sampling", integer("--seed", 0), 0)
        .option("--concurrency <n>", "problems in flight per row (default: 4, or 2 for MCTS + PPM); the table does not depend on it", integer("--concurrency"))
        .option("--json", "print the table as JSON on stdout")
        .option("--quiet", "no progress output")
        .addHelpText("after", "\nEach row is an `rstar eval` run (method greedy, maj@K, mcts with --seed, --rollouts, --candidates) with eval.json and problems.jsonl;\n`rstar report DIR...` shows them side by side.\nEverything runs offline on the CPU: llama.cpp (node-llama-cpp) for the policy and PPM, Python for code steps.\nExit codes: 0 ok; 2 the shipped models are missing (rstar evolve --preset synthetic --export-models models rebuilds them); 3 Python unavailable; 130 interrupted.")
        .action(action("demo", async (flags: DemoFlags) => demoCommand(flags)));
}

async function demoCommand(flags: DemoFlags) {
    const models = locateShippedModels(flags.models);
    const out = flags.out ?? join("runs", `demo-${new Date().toISOString().replace(/[-:]/g, "").replace(/\..*$/, "").replace("T", "-")}`);
    const controller = new AbortController();
    const interrupt = () => controller.abort(new RstarError("ABORTED", "interrupted"));
    const stopListening = onInterrupt(interrupt);
    let display: ProgressDisplay | null = null;
    let rows: DemoRow[];
    try {
        rows = await runDemo({
            models,
            out,
            problems: flags.problems,
            rollouts: flags.rollouts,
            candidates: flags.candidates,
            samples: flags.samples,
            threads: flags.threads ?? defaultThreadCount(),
            teacher: flags.teacher,
            seed: flags.seed,
            ...(flags.concurrency !== undefined ? { concurrency: flags.concurrency } : {}),
            versions: versions(),
            signal: controller.signal,
            onPhase: (phase) => {
                display?.stop();
                display = new ProgressDisplay(phase.padEnd(22), undefined, 5_000, flags.quiet ?? false);
            },
            onProgress: (progress) => display?.update(progress),
        });
    } finally {
        (display as ProgressDisplay | null)?.stop();
        stopListening();
    }
    const rounds = roundsTable(models.manifest);
    if (flags.json) process.stdout.write(JSON.stringify({ out, rows, ...(rounds === null ? {} : { rounds }) }) + "\n");
    else process.stdout.write(formatTable(rows, out) + (rounds === null ? "" : formatRounds(rounds, models.manifest)));
    return controller.signal.aborted ? ExitCode.interrupted : ExitCode.ok;
}

export function formatTable(rows: DemoRow[], out: string): string {
    const percent = (value: number) => `${(100 * value).toFixed(1)}%`;
    const lines = ["", "split  method           accuracy  95% interval     pass@K (oracle)  s/problem  problems", "-----  ---------------  --------  ---------------  ---------------  ---------  --------"];
    for (const row of rows) {
        const interval = `[${percent(row.ci95.low)}, ${percent(row.ci95.high)}]`;
        lines.push(`${row.split.padEnd(5)}  ${row.method.padEnd(15)}  ${percent(row.accuracy).padStart(8)}  ${interval.padEnd(15)}  ${percent(row.passAtK).padStart(15)}  ${row.secondsPerProblem.toFixed(2).padStart(9)}  ${String(row.problems).padStart(8)}`);
    }
    lines.push("", `evaluations: ${out}/<split>-<method>/ (eval.json, problems.jsonl, trees.jsonl); rstar report ${out}/test-* for a page`, "");
    return lines.join("\n");
}

/** The shipped models' self-evolution table (a manifest written by rstar evolve --export-models), or null. */
export function roundsTable(manifest: Record<string, unknown>): Record<string, unknown>[] | null {
    const table = manifest["table"];
    if (!Array.isArray(table) || table.length === 0) return null;
    return table.filter(isPlainObject);
}

/** One line per round: coverage, data, PPM held-out accuracy and every evaluation's accuracy (rstar evolve's table). */
export function formatRounds(rows: Record<string, unknown>[], manifest: Record<string, unknown>): string {
    const fixed = ["round", "coverage", "sft_records", "ppm_pairs", "ppm_heldout"];
    const evals = [...new Set(rows.flatMap((row) => Object.keys(row)))].filter((key) => key.startsWith("test-") || key.startsWith("ood-"));
    const columns = [...fixed, ...evals, "seconds"];
    const cell = (key: string, value: unknown) => {
        if (typeof value !== "number") return "-";
        if (key === "round" || key === "sft_records" || key === "ppm_pairs") return String(value);
        if (key === "seconds") return `${Math.round(value / 60)} min`;
        return `${(100 * value).toFixed(1)}%`;
    };
    const widths = columns.map((key) => Math.max(key.length, ...rows.map((row) => cell(key, row[key]).length)));
    const line = (cells: string[]) => cells.map((text, i) => text.padStart(widths[i] as number)).join("  ");
    const built = typeof manifest["builtBy"] === "string" ? manifest["builtBy"] : "rstar evolve";
    return [
        `how the shipped models were made (${built}; accuracy on the held-out splits, intervals in the run's report.json):`,
        line(columns),
        line(widths.map((w) => "-".repeat(w))),
        ...rows.map((row) => line(columns.map((key) => cell(key, row[key])))),
        "",
    ].join("\n");
}
