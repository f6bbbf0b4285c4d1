import type { Command } from "commander";
import { mkdirSync, writeFileSync } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { buildReport, loadReportRun, type ReportRun, type RoundsInput } from "../../eval/index.js";
import { isEvolveDir, readEvolveDir } from "../../evolve/index.js";
import { createGrader } from "../../grading/index.js";
import { ExitCode } from "../exit-codes.js";
import { action } from "../run-command.js";
import { integer } from "../search-options.js";

interface ReportFlags {
    out: string;
    title: string;
    problems: number;
    rollouts?: number;
    servers: number;
    maxRows: number;
}

export function register(program: Command): void {
    program
        .command("report")
        .description("one self-contained HTML page (charts as inline SVG, no network) for one or several eval or search runs side by side, or the rounds of an rstar evolve directory")
        .argument("<run-dir...>", "directories written by rstar eval (eval.json), rstar search (config.json) or rstar evolve (report.json, or config.json and round-N/)")
        .option("--out <file>", "the HTML file to write", "report.html")
        .option("--title <text>", "page title", "rStar-Math evaluation")
        .option("--problems <n>", "cost projection: problems to plan for", integer("--problems"), 10_000)
        .option("--rollouts <n>", "cost projection: trajectories per problem (default: as measured)", integer("--rollouts"))
        .option("--servers <n>", "cost projection: servers like the measuring machine", integer("--servers"), 1)
        .option("--max-rows <n>", "most problems listed per run", integer("--max-rows"), 1000)
        .addHelpText("after", "\nCharts are Vega-Lite specs rendered to SVG by Vega at report time.\n\nAn evolve directory adds a rounds section (one table across rounds: coverage, SFT records, PPM pairs, PPM held-out accuracy overall and on final answers, each split x method accuracy with its 95% interval, seconds; accuracy by round with interval bars; paired differences between methods within a round and between the first and last round; time per stage), and each round's evaluations (round-N/eval/<split>-<method>/) join the per-run sections as \"round N · split · method\". A round still running shows what its finished stages wrote.\n\nExit codes: 0 ok; 2 a directory is neither a run nor an evolve directory, or a round report in it is malformed.\n\nExamples:\n  rstar report runs/eval-greedy runs/eval-mcts --out report.html --problems 100000 --servers 8\n  rstar report runs/evolve --out evolve.html")
        .action(action("report", async (dirs: string[], flags: ReportFlags) => reportCommand(dirs, flags)));
}

async function reportCommand(dirs: string[], flags: ReportFlags) {
    const grader = createGrader();
    const runs: ReportRun[] = [];
    const evolve: RoundsInput[] = [];
    const evolveDirs = dirs.filter((dir) => isEvolveDir(dir));
    try {
        for (const dir of dirs) {
            if (!evolveDirs.includes(dir)) {
                runs.push(await loadReportRun(dir, grader));
                continue;
            }
            const view = readEvolveDir(dir);
            evolve.push(view);
            for (const round of view.rounds) {
                for (const e of round.evals) {
                    if (e.runDir === null) continue;
                    const run = await loadReportRun(e.runDir, grader);
                    // Several evolve directories: their runs' names start with the directory's name to stay apart.
                    const prefix = evolveDirs.length > 1 ? `${basename(resolve(dir))} · ` : "";
                    runs.push({ ...run, name: `${prefix}round ${round.round} · ${e.split} · ${e.method}`, evolve: { dir, round: round.round, split: e.split, method: e.method } });
                }
            }
        }
    } finally {
        await grader.dispose();
    }
    const html = await buildReport(runs, { title: flags.title, projection: { problems: flags.problems, rollouts: flags.rollouts ?? null, servers: flags.servers }, maxProblemRows: flags.maxRows, evolve });
    mkdirSync(dirname(resolve(flags.out)), { recursive: true });
    writeFileSync(flags.out, html);
    process.stdout.write(`${resolve(flags.out)}\n`);
    return ExitCode.ok;
}
