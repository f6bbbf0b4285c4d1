import type { Command } from "commander";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { buildReport, loadReportRun, type ReportRun } from "../../eval/index.js";
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
        .description("one self-contained HTML page (charts as inline SVG, no network) for one or several eval or search runs side by side")
        .argument("<run-dir...>", "directories written by rstar eval (eval.json) or rstar search (config.json)")
        .option("--out <file>", "the HTML file to write", "report.html")
        .option("--title <text>", "page title", "rStar-Math evaluation")
        .option("--problems <n>", "cost projection: problems to plan for", integer("--problems"), 10_000)
        .option("--rollouts <n>", "cost projection: trajectories per problem (default: as measured)", integer("--rollouts"))
        .option("--servers <n>", "cost projection: servers like the measuring machine", integer("--servers"), 1)
        .option("--max-rows <n>", "most problems listed per run", integer("--max-rows"), 1000)
        .addHelpText("after", "\nCharts are Vega-Lite specs rendered to SVG by Vega at report time. Exit codes: 0 ok; 2 a directory is not a run.\n\nExample:\n  rstar report runs/eval-greedy runs/eval-mcts --out report.html --problems 100000 --servers 8")
        .action(action("report", async (dirs: string[], flags: ReportFlags) => reportCommand(dirs, flags)));
}

async function reportCommand(dirs: string[], flags: ReportFlags) {
    const grader = createGrader();
    let runs: ReportRun[];
    try {
        runs = [];
        for (const dir of dirs) runs.push(await loadReportRun(dir, grader));
    } finally {
        await grader.dispose();
    }
    const html = await buildReport(runs, { title: flags.title, projection: { problems: flags.problems, rollouts: flags.rollouts ?? null, servers: flags.servers }, maxProblemRows: flags.maxRows });
    mkdirSync(dirname(resolve(flags.out)), { recursive: true });
    writeFileSync(flags.out, html);
    process.stdout.write(`${resolve(flags.out)}\n`);
    return ExitCode.ok;
}
