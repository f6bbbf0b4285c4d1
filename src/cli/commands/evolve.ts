import type { Command } from "commander";
import { RstarError } from "../../errors/index.js";
import { CONFIG_PRESETS, dryRun, exportModels, loadEvolveConfig, runEvolve, type EvolveEvent } from "../../evolve/index.js";
import { ExitCode, type ExitCodeValue } from "../exit-codes.js";
import { formatDuration } from "../progress-display.js";
import { action, exitCodeFor } from "../run-command.js";

interface EvolveFlags {
    config?: string;
    preset?: string;
    out?: string;
    resume?: boolean;
    rounds?: string;
    dryRun?: boolean;
    json?: boolean;
    quiet?: boolean;
    queue?: string;
    exportModels?: string;
}

export function register(program: Command): void {
    program
        .command("evolve")
        .description("self-evolution: the paper's rounds of MCTS, SFT and PPM training as durable, resumable stages")
        .option("--config <file>", "JSON config (see docs/evolve.md); merged over --preset")
        .option("--preset <name>", `built-in config: ${Object.keys(CONFIG_PRESETS).join(", ")} (default: paper, the official settings; synthetic: the offline miniature)`)
        .option("--out <dir>", "evolve directory: config.json, state.json, data/, round-N/ (state.json, search, sft.jsonl, pairs.jsonl, policy, ppm, eval, report.json), report.json")
        .option("--resume", "continue the run in --out at the stage it was in (finished stages are kept)")
        .option("--rounds <a-b>", "rounds to run, e.g. 1-4 or 2 (earlier rounds must have finished)")
        .option("--dry-run", "print every stage's command and check the inputs and data formats; run nothing")
        .option("--json", "print the result (the dry-run plan, or the report path) as JSON on stdout")
        .option("--quiet", "only stage starts and ends, not the stages' own progress lines")
        .option("--queue <url>", "distributed: each round's searches and evaluations go through Redis (redis://HOST:PORT[/DB], rediss:// for TLS) to `rstar worker --queue URL` processes, which start the round's policy and PPM servers on their own hosts (training stays here); --resume keeps it (docs/distributed.md)")
        .option("--export-models <dir>", "after the last round, ship its policy, PPM, held-out splits and a manifest with the table across rounds as a models directory (what rstar demo loads; replaced only once the new one is complete); with --resume on a finished run, exports only")
        .addHelpText(
            "after",
            `
Stages per round: sample, search (+ search-unsolved-K, + policy-samples), extract-sft, extract-ppm
(+ extract-policy-samples), train-sft, train-ppm, eval-<split>-<method>, report. Each runs as its own process (rstar search/extract/train/eval or your command
template); its state is in round-N/state.json. After kill -9 or Ctrl-C, --resume continues the stage that was
running (searches and evaluations keep their finished problems) and keeps every finished one.
With --queue URL, the search, search-unsolved-K, policy-samples and eval stages run \`rstar search|eval --queue URL --worker-models
round-N/worker-models-{search,eval,baseline}.json\`: no server starts here; every \`rstar worker --queue URL\` (started without
--policy-url) checks the sha256 of the round's checkpoints on its host, then starts the described servers there
(the teacher, \`rstar serve\` for a trained policy, your \`vllm serve {policy} --port {port}\`). The checkpoints must be
at the same paths on every host (a shared filesystem). The URL is kept in DIR/queue.json (without its password:
RSTAR_REDIS_PASSWORD) and used by --resume; a run started without --queue is resumed without it.
Exit codes: 0 ok; 2 bad usage, config or data (the dry run's checks failed); 3 a server or Python unavailable;
70 a stage failed; 130 interrupted (a stage was stopped or killed: continue with --resume).

Examples:
  rstar evolve --preset synthetic --out runs/evolve-synth
  rstar evolve --preset synthetic --out build/evolve --export-models models   # rebuilds the shipped models
  rstar evolve --config examples/evolve-real-scale.json --out runs/evolve --dry-run
  rstar evolve --config evolve.json --out runs/evolve --resume --rounds 3-4
  rstar evolve --config evolve.json --out runs/evolve --queue redis://10.0.0.5:6379   # rstar worker --queue … on each GPU host`,
        )
        .action(action("evolve", (flags: EvolveFlags) => evolveCommand(flags)));
}

/** The URL as commands show it: the password comes from RSTAR_REDIS_PASSWORD. */
function withoutPassword(text: string): string {
    const url = new URL(text);
    url.password = "";
    return url.href.replace(/\/$/, "");
}

function parseRounds(text: string | undefined, count: number): { from: number; to: number } {
    if (text === undefined) return { from: 1, to: count };
    const match = /^(\d+)(?:-(\d+))?$/.exec(text.trim());
    if (match === null) throw new RstarError("INVALID_ARGUMENT", `--rounds must be N or A-B, got "${text}"`);
    const from = Number(match[1]);
    return { from, to: match[2] === undefined ? from : Number(match[2]) };
}

async function evolveCommand(flags: EvolveFlags): Promise<ExitCodeValue> {
    if (flags.out === undefined) throw new RstarError("INVALID_ARGUMENT", "--out is required");
    if (flags.config === undefined && flags.preset === undefined) throw new RstarError("INVALID_ARGUMENT", "give --config FILE or --preset NAME (see --help)");
    const loaded = loadEvolveConfig({ ...(flags.config === undefined ? {} : { file: flags.config }), ...(flags.preset === undefined ? {} : { preset: flags.preset }) });
    const rounds = parseRounds(flags.rounds, loaded.config.rounds.length);
    if (flags.queue !== undefined) {
        // Checked now (a bad URL is exit 2 before anything runs); imported here: runs without --queue do not load BullMQ.
        const { parseQueueUrl } = await import("../../queue/index.js");
        parseQueueUrl(flags.queue);
    }
    if (flags.dryRun) {
        const result = await dryRun(loaded, flags.out, rounds, flags.queue === undefined ? undefined : withoutPassword(flags.queue));
        if (flags.json) process.stdout.write(JSON.stringify(result, null, 2) + "\n");
        else {
            const lines: string[] = [`rstar evolve --dry-run: ${loaded.source}, ${rounds.from === rounds.to ? `round ${rounds.from}` : `rounds ${rounds.from}-${rounds.to}`} into ${flags.out}`, ""];
            for (const stage of result.stages) {
                lines.push(`[${stage.round === 0 ? "data" : `round ${stage.round}`}] ${stage.stage}${stage.status === "pending" ? "" : ` (${stage.status})`}`);
                for (const server of stage.servers) lines.push(`    server  ${server}`);
                lines.push(`    ${stage.command === null ? "(in-process)" : `$ ${stage.command}`}`);
                for (const note of stage.notes) lines.push(`    note    ${note}`);
            }
            lines.push("", "checks:");
            for (const check of result.checks) lines.push(`  ${check.ok ? "ok  " : "FAIL"} ${check.what}: ${check.message}`);
            process.stdout.write(lines.join("\n") + "\n");
        }
        return result.ok ? ExitCode.ok : ExitCode.usage;
    }
    const controller = new AbortController();
    const interrupt = () => controller.abort(new RstarError("ABORTED", "interrupted"));
    process.once("SIGINT", interrupt);
    process.once("SIGTERM", interrupt);
    const display = new StageDisplay(flags.quiet ?? false, loaded.config.rounds.length);
    try {
        const result = await runEvolve({ loaded, dir: flags.out, resume: flags.resume ?? false, rounds, signal: controller.signal, onEvent: (event) => display.show(event), ...(flags.queue !== undefined ? { queue: flags.queue } : {}) });
        const exported = flags.exportModels === undefined ? null : exportModels({ run: flags.out, out: flags.exportModels, round: rounds.to, builtBy: builtBy(flags) });
        if (flags.json) process.stdout.write(JSON.stringify({ dir: result.dir, report: result.report, rounds: result.rounds, ...(exported === null ? {} : { models: exported }) }) + "\n");
        else process.stdout.write(`report     ${result.report}\n${exported === null ? "" : `models     ${exported.out} (round ${exported.round}: ${exported.files.length} files)\n`}`);
        return ExitCode.ok;
    } catch (error) {
        if (RstarError.isInstance(error) && error.code === "ABORTED") {
            process.stderr.write(`rstar evolve: ${error.message}\n`);
            return ExitCode.interrupted;
        }
        const code = exitCodeFor(error);
        if (code !== ExitCode.internal) throw error;
        process.stderr.write(`rstar evolve: ${(error as Error).message}\n`);
        return ExitCode.internal;
    } finally {
        process.off("SIGINT", interrupt);
        process.off("SIGTERM", interrupt);
    }
}

/** The command line that rebuilds the run, for the shipped manifest. */
function builtBy(flags: EvolveFlags): string {
    const parts = ["rstar evolve"];
    if (flags.preset !== undefined) parts.push("--preset", flags.preset);
    if (flags.config !== undefined) parts.push("--config", flags.config);
    parts.push("--out", flags.out as string);
    if (flags.rounds !== undefined) parts.push("--rounds", flags.rounds);
    parts.push("--export-models", flags.exportModels as string);
    return parts.join(" ");
}

/** Progress across stages on stderr: one line per stage start and end, the stage's own progress lines indented. */
class StageDisplay {
    private readonly started = performance.now();

    constructor(
        private readonly quiet: boolean,
        private readonly rounds: number,
    ) {}

    show(event: EvolveEvent): void {
        const where = (round: number) => (round === 0 ? "[data]" : `[round ${round}/${this.rounds}]`);
        const elapsed = formatDuration(performance.now() - this.started);
        switch (event.type) {
            case "stage-start":
                process.stderr.write(`${where(event.round)} ${event.stage} (${event.index + 1}/${event.total})${event.attempt > 1 ? `, attempt ${event.attempt}` : ""} — elapsed ${elapsed}\n${event.command === null ? "" : `    $ ${event.command}\n`}`);
                break;
            case "stage-kept":
                process.stderr.write(`${where(event.round)} ${event.stage}: ${event.status} earlier, kept\n`);
                break;
            case "stage-line":
                if (!this.quiet) process.stderr.write(`    ${event.stage} | ${event.line}\n`);
                break;
            case "stage-end":
                process.stderr.write(`${where(event.round)} ${event.stage} ${event.status} in ${formatDuration(event.seconds * 1000)}${event.note === null ? "" : `: ${event.note}`}\n`);
                break;
            case "server":
                process.stderr.write(event.action === "start" ? `${where(event.round)} starting server ${event.url}${event.command === null ? "" : ` ($ ${event.command})`}\n` : `${where(event.round)} stopping server ${event.url}\n`);
                break;
        }
    }
}
