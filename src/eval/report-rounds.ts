import { renderSvg, roundsAccuracySpec, roundsTimeSpec, type RoundPoint } from "./report-charts.js";

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

/** The section's HTML (tables and inline SVG charts). `index` keeps element ids unique when several directories are shown. */
export async function roundsSection(input: RoundsInput, index = 0): Promise<string> {
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

    const stageNames = [...new Set(rows.flatMap((row) => row.stages.map((s) => s.name)))];
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
<h3>Time per stage (seconds)</h3>${timeChart}<div class="wide">${stageTable}</div>`;
}
