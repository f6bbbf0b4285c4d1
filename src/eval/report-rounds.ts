import { pairedDifference } from "./metrics.js";
import { renderSvg, roundsAccuracySpec, roundsTimeSpec, type ReportRun, type RoundPoint } from "./report-charts.js";

/**
 * The rounds section of `rstar report` for a self-evolution directory: one table across rounds, accuracy by round per
 * method and split, time per stage. The input is the evolve directory as `readEvolveDir` (src/evolve) reads it; the
 * shape is repeated here because eval/ and evolve/ are on the same layer.
 */

export interface RoundsInterval {
    low: number;
    high: number;
}

export interface RoundsHeldout {
    accuracy: number | null;
    pairs: number;
    problems: number;
    wilson95: RoundsInterval | null;
}

export interface RoundsRow {
    round: number;
    complete: boolean;
    problems: number;
    coverage: number | null;
    sftRecords: number;
    ppmPairs: number;
    ppmHeldout: RoundsHeldout | null;
    ppmHeldoutFinalAnswer: RoundsHeldout | null;
    evals: { name: string; split: string; method: string; accuracy: number | null; ci95: RoundsInterval | null; problems: number | null }[];
    stages: { name: string; status: string; seconds: number }[];
    secondsTotal: number;
}

export interface RoundsInput {
    dir: string;
    plannedRounds: number | null;
    rounds: RoundsRow[];
}

const escape = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
const pct = (value: number) => `${(100 * value).toFixed(1)}%`;
const interval = (i: RoundsInterval | null) => (i === null ? "" : ` <span class="ci">[${pct(i.low)}, ${pct(i.high)}]</span>`);
const SPLIT_ORDER = ["test", "ood"];

/** Split × method columns in a stable order: test before ood, methods as the rounds list them. */
function evalColumns(rows: readonly RoundsRow[]): { split: string; method: string }[] {
    const columns: { split: string; method: string }[] = [];
    for (const row of rows) {
        for (const e of row.evals) if (!columns.some((c) => c.split === e.split && c.method === e.method)) columns.push({ split: e.split, method: e.method });
    }
    const rank = (split: string) => (SPLIT_ORDER.includes(split) ? SPLIT_ORDER.indexOf(split) : SPLIT_ORDER.length);
    return columns.map((c, i) => ({ c, i })).sort((a, b) => rank(a.c.split) - rank(b.c.split) || a.i - b.i).map(({ c }) => c);
}

function heldoutCell(h: RoundsHeldout | null): string {
    if (h === null || h.accuracy === null) return `<td class="n">-</td>`;
    return `<td class="n">${pct(h.accuracy)}${interval(h.wilson95)} <span class="ci">${h.pairs} pairs</span></td>`;
}

/**
 * Paired differences between the round's evaluations, from their per-problem records: within each round and split every
 * method against each earlier one (in column order), and for each split and method the last round against the first.
 */
function pairedTable(runs: readonly ReportRun[], columns: readonly { split: string; method: string }[], id: string): string {
    const tagged = runs.filter((run) => run.evolve !== undefined);
    const find = (round: number, split: string, method: string) => tagged.find((run) => run.evolve?.round === round && run.evolve.split === split && run.evolve.method === method);
    const rounds = [...new Set(tagged.map((run) => run.evolve?.round as number))].sort((a, b) => a - b);
    const comparisons: { label: string; a: ReportRun; b: ReportRun }[] = [];
    for (const round of rounds) {
        for (const [i, later] of columns.entries()) {
            for (const earlier of columns.slice(0, i)) {
                if (earlier.split !== later.split) continue;
                const a = find(round, later.split, later.method);
                const b = find(round, earlier.split, earlier.method);
                if (a !== undefined && b !== undefined) comparisons.push({ label: `round ${round} · ${later.split}: ${later.method} − ${earlier.method}`, a, b });
            }
        }
    }
    const first = rounds[0];
    const last = rounds[rounds.length - 1];
    if (first !== undefined && last !== undefined && last > first) {
        for (const c of columns) {
            const a = find(last, c.split, c.method);
            const b = find(first, c.split, c.method);
            if (a !== undefined && b !== undefined) comparisons.push({ label: `${c.split} · ${c.method}: round ${last} − round ${first}`, a, b });
        }
    }
    const rows = comparisons.flatMap(({ label, a, b }) => {
        const byIndex = new Map(b.records.map((record) => [record.index, record.correct]));
        const shared = a.records.filter((record) => byIndex.has(record.index));
        if (shared.length === 0) return [];
        const diff = pairedDifference(shared.map((record) => record.correct), shared.map((record) => byIndex.get(record.index) as boolean), { seed: 0 });
        const beyond = diff.ci95.low > 0 || diff.ci95.high < 0;
        return [`<tr><td>${escape(label)}</td><td class="n">${diff.problems}</td><td class="n">${diff.difference >= 0 ? "+" : ""}${(100 * diff.difference).toFixed(1)} pts</td><td>[${(100 * diff.ci95.low).toFixed(1)}, ${(100 * diff.ci95.high).toFixed(1)}]${beyond ? ' <span class="ok">beyond</span>' : ""}</td><td class="n">${diff.onlyA}</td><td class="n">${diff.onlyB}</td></tr>`];
    });
    if (rows.length === 0) return "";
    return `<h3>Paired differences across methods and rounds</h3><p class="note">Same problems, selected answers; 95% percentile bootstrap over problems (2,000 resamples, seed 0); "beyond": the interval excludes 0.</p><table id="${id}"><thead><tr><th>comparison</th><th>problems</th><th>difference</th><th>95% interval (pts)</th><th>only first right</th><th>only second right</th></tr></thead><tbody>${rows.join("")}</tbody></table>`;
}

/**
 * The section's HTML (tables and inline SVG charts). `runs`: the loaded evaluation runs of this directory (tagged with
 * their round, split and method), for the paired differences. `index` keeps element ids unique across directories.
 */
export async function roundsSection(input: RoundsInput, runs: readonly ReportRun[] = [], index = 0): Promise<string> {
    const suffix = index === 0 ? "" : `-${index + 1}`;
    const rows = input.rounds;
    const columns = evalColumns(rows);
    const status = (row: RoundsRow) => {
        if (row.complete) return "";
        const running = row.stages.find((s) => s.status === "running" || s.status === "failed");
        return ` <span class="ci">(in progress${running === undefined ? "" : `: ${escape(running.name)} ${escape(running.status)}`})</span>`;
    };
    const body = rows
        .map((row) => {
            const evals = columns.map((c) => {
                const e = row.evals.find((x) => x.split === c.split && x.method === c.method);
                if (e === undefined || e.accuracy === null) return `<td class="n">-</td>`;
                return `<td class="n">${pct(e.accuracy)}${interval(e.ci95)}${e.problems === null ? "" : ` <span class="ci">n=${e.problems}</span>`}</td>`;
            });
            return `<tr data-round="${row.round}"><td>${row.round}${status(row)}</td><td class="n">${row.problems}</td><td class="n">${row.coverage === null ? "-" : pct(row.coverage)}</td><td class="n">${row.sftRecords}</td><td class="n">${row.ppmPairs}</td>${heldoutCell(row.ppmHeldout)}${heldoutCell(row.ppmHeldoutFinalAnswer)}${evals.join("")}<td class="n">${row.secondsTotal.toFixed(1)}</td></tr>`;
        })
        .join("");
    const head = `<tr><th>round</th><th>problems</th><th>coverage</th><th>SFT records</th><th>PPM pairs</th><th>PPM held-out</th><th>PPM held-out (final answers)</th>${columns.map((c) => `<th>${escape(c.split)} · ${escape(c.method)}</th>`).join("")}<th>seconds</th></tr>`;
    const table = `<table id="rounds${suffix}" class="rounds"><thead>${head}</thead><tbody>${body}</tbody></table>`;

    const points: RoundPoint[] = rows.flatMap((row) =>
        row.evals.filter((e) => e.accuracy !== null).map((e) => ({ round: row.round, split: e.split, method: e.method, accuracy: e.accuracy as number, low: e.ci95?.low ?? null, high: e.ci95?.high ?? null })),
    );
    const accuracySpec = roundsAccuracySpec(points);
    const accuracyChart = accuracySpec === null ? "" : `<div class="chart" id="chart-rounds-accuracy${suffix}">${await renderSvg(accuracySpec)}</div>`;

    // Stage names in run order: a stage only a later round has goes after the stage it follows there.
    const stageNames: string[] = [];
    for (const row of rows) {
        row.stages.forEach((stage, i) => {
            if (stageNames.includes(stage.name)) return;
            const before = i === 0 ? -1 : stageNames.indexOf(row.stages[i - 1]?.name ?? "");
            stageNames.splice(before + 1, 0, stage.name);
        });
    }
    const stageRows = rows.flatMap((row) => row.stages.filter((s) => s.seconds > 0).map((s) => ({ round: row.round, stage: s.name, seconds: s.seconds })));
    const timeSpec = roundsTimeSpec(stageRows);
    const timeChart = timeSpec === null ? "" : `<div class="chart" id="chart-rounds-time${suffix}">${await renderSvg(timeSpec)}</div>`;
    const stageTable = `<table id="rounds-stages${suffix}" class="rounds-stages"><thead><tr><th>stage</th>${rows.map((row) => `<th>round ${row.round}</th>`).join("")}</tr></thead><tbody>${stageNames
        .map((name) => `<tr><td>${escape(name)}</td>${rows.map((row) => {
            const s = row.stages.find((x) => x.name === name);
            if (s === undefined) return `<td class="n">-</td>`;
            return `<td class="n">${s.status === "done" ? s.seconds.toFixed(1) : `${s.seconds > 0 ? `${s.seconds.toFixed(1)} ` : ""}<span class="ci">${escape(s.status)}</span>`}</td>`;
        }).join("")}</tr>`)
        .join("")}</tbody></table>`;

    const planned = input.plannedRounds === null ? "" : ` ${rows.filter((row) => row.complete).length} of ${input.plannedRounds} planned rounds finished.`;
    return `<h2>Self-evolution rounds: ${escape(input.dir)}</h2>
<p class="note">From rstar evolve's round reports (round-N/report.json; a round still running is read from its state and the stages it finished).${planned}
Coverage: share of the round's searched problems with a correct trajectory. PPM held-out: the round's PPM on the preference pairs of the problems its trainer held out whole (95% Wilson interval). Evaluations: selected-answer accuracy with its 95% Wilson interval and n problems.</p>
<div class="wide">${table}</div>${accuracyChart}
${pairedTable(runs, columns, `rounds-paired${suffix}`)}
<h3>Time per stage (seconds)</h3>${timeChart}<div class="wide">${stageTable}</div>`;
}
