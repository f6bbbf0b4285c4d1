import hljs from "highlight.js/lib/core";
import python from "highlight.js/lib/languages/python";
import { existsSync } from "node:fs";
import { basename, join } from "node:path";
import { RstarError } from "../errors/index.js";
import { readRunConfig, runPaths } from "../runs/index.js";
import type { AnswerJudge } from "../search/index.js";
import { gradeRun, type EvalProblemRecord, type TrajectoryStep } from "./grade-run.js";
import { pairedDifference } from "./metrics.js";
import { costSpec, difficultySpec, metricsSpec, renderSvg, scalingSpec, type ReportRun } from "./report-charts.js";
import { roundsSection, type RoundsInput } from "./report-rounds.js";
import { evalPaths, readEval, summarize, type EvalSummary } from "./run-eval.js";

hljs.registerLanguage("python", python);

export type { ReportRun } from "./report-charts.js";

/**
 * A run for the report: an evaluation directory (eval.json), or a plain search run, graded here from its results
 * against the gold answers its records carry (its selection may have seen them: the report says so).
 */
export async function loadReportRun(dir: string, judge: AnswerJudge): Promise<ReportRun> {
    if (existsSync(evalPaths(dir).summary)) {
        const { summary, records } = readEval(dir);
        return { name: `${summary.method} (${basename(dir)})`, dir, summary, records };
    }
    const paths = runPaths(dir);
    if (!existsSync(paths.config)) throw new RstarError("FILE_NOT_FOUND", `${dir} is neither an evaluation (eval.json), a search run (config.json) nor an evolve directory (report.json, or config.json and round-N/)`);
    const config = await readRunConfig(paths.config);
    const { records, graded } = await gradeRun(dir, new Map(), judge, { voteTopK: config.settings.voteTopK, selection: config.settings.answerSelection });
    const summary = summarize({
        method: `search ${config.settings.algorithm}`,
        dataset: config.dataset.path,
        policy: config.policy.id,
        rewardModel: config.rewardModel,
        settings: config.settings,
        total: config.dataset.problems,
        records,
        graded,
        wallSeconds: records.reduce((sum, record) => sum + record.seconds, 0),
        concurrency: 1,
        interrupted: false,
        out: dir,
    });
    return { name: `search ${config.settings.algorithm} (${basename(dir)})`, dir, summary, records };
}

export interface ProjectionOptions {
    /** Problems to plan for. */
    problems: number;
    /** Trajectories per problem; null = as measured. */
    rollouts: number | null;
    servers: number;
}

export interface ReportOptions {
    title: string;
    projection: ProjectionOptions;
    /** Most problems listed per run in the per-problem table (default 1000). */
    maxProblemRows?: number;
    generatedAt?: Date;
    /** Self-evolution directories: a rounds section each, before the runs (which may then be none). */
    evolve?: readonly RoundsInput[];
}

export interface Projection {
    run: string;
    problems: number;
    trajectories: number;
    servers: number;
    hours: number;
    tokens: number;
    measuredTrajectories: number;
    secondsPerProblemPerServer: number;
}

/**
 * Cost of a larger run from a measured one. Assumptions (printed in the report): cost grows linearly with
 * trajectories per problem; one server handles `concurrency` problems at once as in the measured run, so a problem
 * occupies a server for seconds_per_problem / concurrency; servers are like the measuring machine and scale linearly.
 */
export function project(summary: EvalSummary, options: ProjectionOptions, name = summary.method): Projection {
    const measured = requestedTrajectories(summary.settings);
    const trajectories = options.rollouts ?? measured;
    const scale = trajectories / measured;
    const perServer = summary.seconds_per_problem / Math.max(1, summary.concurrency);
    return {
        run: name,
        problems: options.problems,
        trajectories,
        servers: options.servers,
        hours: (options.problems * perServer * scale) / options.servers / 3600,
        tokens: options.problems * summary.tokens_per_problem * scale,
        measuredTrajectories: measured,
        secondsPerProblemPerServer: perServer,
    };
}

/** Trajectories the measured run asked for per problem: samples, rollouts, beams, or 1 for greedy. */
export function requestedTrajectories(settings: EvalSummary["settings"]): number {
    switch (settings.algorithm) {
        case "best-of-n":
            return settings.samples;
        case "mcts":
            return settings.rollouts;
        case "beam":
            return settings.beamWidth;
        case "greedy":
            return 1;
    }
}

const escape = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
const pct = (value: number) => `${(100 * value).toFixed(1)}%`;
const ci = (interval: { low: number; high: number }) => `<span class="ci">[${pct(interval.low)}, ${pct(interval.high)}]</span>`;
const num = (value: number, digits = 1) => (Number.isFinite(value) ? value.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits }) : "-");

const CSS = `
body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1200px;padding:0 16px;color:#1b1f24}
h1{font-size:22px}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #d0d7de;padding-bottom:4px}
table{border-collapse:collapse;margin:8px 0}th,td{border:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f6f8fa}td.n{text-align:right;font-variant-numeric:tabular-nums}.ci{color:#57606a;font-size:12px}
.ok{color:#1a7f37;font-weight:600}.bad{color:#cf222e;font-weight:600}.note{color:#57606a;font-size:13px}
.chart{margin:12px 0}.chart svg{max-width:100%;height:auto}details{margin:2px 0}summary{cursor:pointer}
pre{background:#f6f8fa;padding:6px 8px;border-radius:4px;overflow-x:auto;margin:4px 0;white-space:pre-wrap}
pre.out{background:#fff8e6;border-left:3px solid #d4a72c}.warn{background:#fff1f0;border:1px solid #ffa198;padding:6px 10px}
.hljs-keyword,.hljs-built_in{color:#cf222e}.hljs-string{color:#0a3069}.hljs-number{color:#0550ae}.hljs-comment{color:#6e7781;font-style:italic}
.hljs-title,.hljs-function{color:#8250df}.hljs-literal{color:#0550ae}
.wide{overflow-x:auto}#settings td{overflow-wrap:anywhere;max-width:240px}
`;

function stripMarkers(text: string): string {
    return text.replace(/<\/?code>|<end_of_step>|<end_of_code>|<end_of_answer>|<output>|<end_of_output>/g, "").replace(/^\n+|\n+$/g, "");
}

function renderStep(step: TrajectoryStep): string {
    if (step.code !== null) {
        const code = stripMarkers(step.code);
        const highlighted = hljs.highlight(code, { language: "python" }).value;
        const output = step.observation !== null && step.observation.trim() !== "" ? `<pre class="out">${escape(stripMarkers(step.observation))}</pre>` : "";
        return `<pre class="code"><code class="hljs language-python">${highlighted}</code></pre>${output}`;
    }
    return `<pre>${escape(stripMarkers(step.text))}</pre>`;
}

function problemRows(run: ReportRun, limit: number): string {
    const rows = run.records.slice(0, limit).map((record: EvalProblemRecord) => {
        const votes = record.votes.slice(0, 4).map((vote) => `${escape(vote.answer)}${vote.correct ? "✓" : ""}×${vote.votes}`).join(", ");
        const gold = Array.isArray(record.gold) ? record.gold.join(" | ") : (record.gold ?? "");
        const trajectory = record.trajectory.length === 0 ? `<p class="note">${record.error !== null ? `failed: ${escape(record.error)}` : "no finished trajectory"}</p>` : record.trajectory.map(renderStep).join("");
        return `<tr><td class="n">${record.index}</td><td>${escape(record.level ?? "")}</td><td>${record.correct ? '<span class="ok">✓</span>' : '<span class="bad">✗</span>'}</td><td>${escape(record.selected_answer ?? "(none)")}</td><td>${escape(gold)}</td><td>${votes}</td><td class="n">${record.selected_value === null ? "-" : num(record.selected_value, 3)}</td><td><details><summary>${escape(record.question.slice(0, 90))}${record.question.length > 90 ? "…" : ""}</summary><p>${escape(record.question)}</p>${trajectory}</details></td></tr>`;
    });
    const more = run.records.length > limit ? `<p class="note">${run.records.length - limit} more problems in ${escape(join(run.dir, "problems.jsonl"))}</p>` : "";
    return `<table class="problems" data-run="${escape(run.name)}"><thead><tr><th>#</th><th>level</th><th>correct</th><th>chosen answer</th><th>gold</th><th>votes (answer×count)</th><th>value</th><th>question and chosen trajectory</th></tr></thead><tbody>${rows.join("")}</tbody></table>${more}`;
}

/** Problem-by-problem difference of each later run against the first, where they graded the same problems. */
function pairedRows(runs: readonly ReportRun[]): string {
    const first = runs[0];
    if (first === undefined || runs.length < 2) return "";
    const rows: string[] = [];
    for (const other of runs.slice(1)) {
        const byIndex = new Map(first.records.map((record) => [record.index, record.correct]));
        const shared = other.records.filter((record) => byIndex.has(record.index));
        if (shared.length === 0 || other.summary.dataset !== first.summary.dataset) continue;
        const diff = pairedDifference(
            shared.map((record) => record.correct),
            shared.map((record) => byIndex.get(record.index) as boolean),
            { seed: 0 },
        );
        rows.push(`<tr><td>${escape(other.name)} − ${escape(first.name)}</td><td class="n">${diff.problems}</td><td class="n">${diff.difference >= 0 ? "+" : ""}${(100 * diff.difference).toFixed(1)} pts</td><td>[${(100 * diff.ci95.low).toFixed(1)}, ${(100 * diff.ci95.high).toFixed(1)}]</td><td class="n">${diff.onlyA}</td><td class="n">${diff.onlyB}</td></tr>`);
    }
    if (rows.length === 0) return "";
    return `<h2>Paired differences</h2><p class="note">Same problems, selected answers; 95% percentile bootstrap over problems (2,000 resamples, seed 0).</p><table id="paired"><thead><tr><th>runs</th><th>problems</th><th>difference</th><th>95% interval (pts)</th><th>only first right</th><th>only second right</th></tr></thead><tbody>${rows.join("")}</tbody></table>`;
}

/** The report: one self-contained HTML page (inline CSS and SVG, no scripts, no network). */
export async function buildReport(runs: readonly ReportRun[], options: ReportOptions): Promise<string> {
    const evolve = options.evolve ?? [];
    if (runs.length === 0 && evolve.length === 0) throw new RstarError("INVALID_ARGUMENT", "the report needs at least one run");
    const roundsHtml: string[] = [];
    for (const [i, input] of evolve.entries()) roundsHtml.push(await roundsSection(input, runs.filter((run) => run.evolve?.dir === input.dir), i));
    const generated = (options.generatedAt ?? new Date()).toISOString();
    const sources = [...evolve.map((input) => input.dir), ...runs.filter((run) => run.evolve === undefined).map((run) => run.dir)];
    const head = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(options.title)}</title><style>${CSS}</style></head>
<body>
<h1>${escape(options.title)}</h1>
<p class="note">Generated ${generated} by rstar report from ${sources.map((dir) => escape(dir)).join(", ")}. Answers are graded after selection; pass@K is an oracle (it looks at the gold answer). Intervals: 95% Wilson.</p>
${roundsHtml.join("\n")}`;
    if (runs.length === 0) return `${head}\n<p class="note">No finished evaluation runs yet.</p>\n</body></html>\n`;
    const charts: { id: string; svg: string }[] = [];
    charts.push({ id: "chart-metrics", svg: await renderSvg(metricsSpec(runs)) });
    const scaling = scalingSpec(runs);
    if (scaling !== null) charts.push({ id: "chart-scaling", svg: await renderSvg(scaling) });
    const difficulty = difficultySpec(runs);
    if (difficulty !== null) charts.push({ id: "chart-difficulty", svg: await renderSvg(difficulty) });
    charts.push({ id: "chart-cost", svg: await renderSvg(costSpec(runs)) });
    const chart = (id: string) => {
        const found = charts.find((entry) => entry.id === id);
        return found === undefined ? "" : `<div class="chart" id="${id}">${found.svg}</div>`;
    };

    const keys = ["algorithm", "prompt", "rollouts", "candidates", "samples", "beamWidth", "maxDepth", "temperature", "maxTokens", "terminalReward", "leafValue", "answerSelection", "voteTopK", "seed"] as const;
    const settingsTable = `<table id="settings"><thead><tr><th>setting</th>${runs.map((run) => `<th>${escape(run.name)}</th>`).join("")}</tr></thead><tbody>
<tr><td>dataset</td>${runs.map((run) => `<td>${escape(run.summary.dataset)}</td>`).join("")}</tr>
<tr><td>policy</td>${runs.map((run) => `<td>${escape(run.summary.policy)}</td>`).join("")}</tr>
<tr><td>reward model</td>${runs.map((run) => `<td>${escape(run.summary.rewardModel ?? "none")}</td>`).join("")}</tr>
<tr><td>concurrency</td>${runs.map((run) => `<td>${run.summary.concurrency}</td>`).join("")}</tr>
${keys.map((key) => `<tr><td>${key}</td>${runs.map((run) => `<td>${escape(String(run.summary.settings[key]))}</td>`).join("")}</tr>`).join("\n")}
</tbody></table>`;

    const leaks = runs.filter((run) => run.summary.settings.terminalReward === "ground-truth");
    const leakWarning = leaks.length === 0 ? "" : `<p class="warn">${leaks.map((run) => escape(run.name)).join(", ")}: a search run with ground-truth terminal rewards: its selection saw the gold answer, so its "selected" accuracy is pass@any, not an accuracy.</p>`;

    const metricsTable = `<table id="metrics"><thead><tr><th>run</th><th>problems</th><th>selected (method)</th><th>top value</th><th>majority</th><th>weighted</th><th>pass@K (oracle)</th><th>tokens / problem</th><th>requests / problem</th><th>s / problem</th></tr></thead><tbody>${runs
        .map((run) => {
            const s = run.summary;
            return `<tr><td>${escape(run.name)}</td><td class="n">${s.problems}${s.failed > 0 ? ` (${s.failed} failed)` : ""}</td><td class="n">${pct(s.accuracy)} ${ci(s.ci95)}</td><td class="n">${pct(s.top_value.accuracy)} ${ci(s.top_value.ci95)}</td><td class="n">${pct(s.majority.accuracy)} ${ci(s.majority.ci95)}</td><td class="n">${pct(s.weighted.accuracy)} ${ci(s.weighted.ci95)}</td><td class="n">${pct(s.pass_at_k.accuracy)} ${ci(s.pass_at_k.ci95)} <span class="ci">K=${s.pass_at_k.k}</span></td><td class="n">${num(s.tokens_per_problem, 0)}</td><td class="n">${num(s.requests_per_problem)}</td><td class="n">${num(s.seconds_per_problem, 2)}</td></tr>`;
        })
        .join("")}</tbody></table>`;

    const scalingTable = runs
        .filter((run) => run.summary.scaling.length > 0)
        .map((run) => {
            const ks = [...new Set(run.summary.scaling.map((point) => point.k))];
            const rows = (["majority", "weighted", "reward model"] as const).map((method) => `<tr><td>${method}</td>${ks.map((k) => {
                const point = run.summary.scaling.find((p) => p.k === k && p.method === method);
                return `<td class="n">${point === undefined ? "-" : `${pct(point.mean)} <span class="ci">±${(100 * point.sd).toFixed(1)}</span>`}</td>`;
            }).join("")}</tr>`);
            return `<p><b>${escape(run.name)}</b> (${run.summary.scaling[0]?.draws ?? 0} draws per k)</p><table class="scaling"><thead><tr><th>selection \\ k</th>${ks.map((k) => `<th>${k}</th>`).join("")}</tr></thead><tbody>${rows.join("")}</tbody></table>`;
        })
        .join("");

    const projections = runs.map((run) => project(run.summary, options.projection, run.name));
    const projectionTable = `<table id="projection"><thead><tr><th>run</th><th>problems N</th><th>trajectories K</th><th>servers M</th><th>hours</th><th>tokens</th><th>measured: s per problem per server, trajectories asked</th></tr></thead><tbody>${projections
        .map((p) => `<tr><td>${escape(p.run)}</td><td class="n">${p.problems.toLocaleString("en-US")}</td><td class="n">${num(p.trajectories)}</td><td class="n">${p.servers}</td><td class="n">${num(p.hours, 2)}</td><td class="n">${Math.round(p.tokens).toLocaleString("en-US")}</td><td class="n">${num(p.secondsPerProblemPerServer, 2)} s, ${num(p.measuredTrajectories)}</td></tr>`)
        .join("")}</tbody></table>
<p class="note">Assumptions: time and tokens grow linearly with trajectories per problem (K / the measured run's samples,
rollouts or beams);
a server runs as many problems at once as the measured run's concurrency, so a problem occupies it for
(seconds per problem) / concurrency; the M servers are like the measuring machine and scale linearly; no retries,
start-up or data movement counted. Change N, K and M with <code>rstar report --problems N --rollouts K --servers M</code>.</p>`;

    const problemsSection = runs.map((run) => `<h3>${escape(run.name)}</h3>${problemRows(run, options.maxProblemRows ?? 1000)}`).join("");
    return `${head}
${leakWarning}
<h2>Settings</h2><div class="wide">${settingsTable}</div>
<h2>Metrics</h2><div class="wide">${metricsTable}</div>${chart("chart-metrics")}
${pairedRows(runs)}
<h2>Test-time scaling</h2><p class="note">Each problem keeps a seeded random subset of k of its finished trajectories; the answer is chosen from it by majority vote, value-weighted vote or the reward model's value.</p>${chart("chart-scaling")}${scalingTable}
${difficulty !== null ? `<h2>Accuracy by difficulty</h2>${chart("chart-difficulty")}` : ""}
<h2>Cost per problem</h2>${chart("chart-cost")}
<h2>Cost projection</h2>${projectionTable}
<h2>Problems</h2>${problemsSection}
</body></html>
`;
}
