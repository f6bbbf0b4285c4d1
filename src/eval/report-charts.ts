import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import type { EvalSummary } from "./run-eval.js";
import type { EvalProblemRecord } from "./grade-run.js";

export interface ReportRun {
    /** Shown in legends and headings: "maj@8 (runs/m8)". */
    name: string;
    dir: string;
    summary: EvalSummary;
    records: EvalProblemRecord[];
    /** An evaluation of a self-evolution round: the evolve directory, round, split and method. */
    evolve?: { dir: string; round: number; split: string; method: string };
}

/** Renders a Vega-Lite spec to an SVG string in Node (Vega's headless renderer; no browser, no canvas). */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
    const view = new vega.View(vega.parse(compile(spec).spec), { renderer: "none" });
    try {
        return await view.toSVG();
    } finally {
        view.finalize();
    }
}

const base = { $schema: "https://vega.github.io/schema/vega-lite/v6.json", config: { font: "system-ui, sans-serif", axis: { labelFontSize: 11, titleFontSize: 12 } } } as const;

/**
 * Accuracy against trajectories k (log2 axis), one line per selection (mean over subsample draws) with a mean ± sd band;
 * several runs side by side as panels.
 */
export function scalingSpec(runs: readonly ReportRun[]): TopLevelSpec | null {
    const values = runs.flatMap((run) =>
        run.summary.scaling.map((point) => ({
            run: run.name,
            selection: point.method,
            k: point.k,
            accuracy: point.mean,
            low: Math.max(0, point.mean - point.sd),
            high: Math.min(1, point.mean + point.sd),
        })),
    );
    if (values.length === 0) return null;
    const x = { field: "k", type: "quantitative", title: "trajectories k", scale: { type: "log", base: 2 }, axis: { values: [...new Set(values.map((v) => v.k))] } };
    const color = { field: "selection", type: "nominal", title: "selection", sort: ["majority", "weighted", "reward model"], legend: { labelLimit: 300 } };
    const layer = [
        { mark: { type: "area", opacity: 0.15 }, encoding: { x, y: { field: "low", type: "quantitative" }, y2: { field: "high" }, color } },
        {
            mark: { type: "line", point: true },
            encoding: {
                x,
                y: { field: "accuracy", type: "quantitative", title: "accuracy", axis: { format: ".0%" } },
                color,
                tooltip: [{ field: "run" }, { field: "selection" }, { field: "k" }, { field: "accuracy", format: ".1%" }],
            },
        },
    ];
    const title = "Test-time scaling (subsampled trajectories; band = mean ± sd over draws)";
    if (runs.length === 1) return { ...base, width: 560, height: 300, title, data: { values }, layer } as unknown as TopLevelSpec;
    return {
        ...base,
        title,
        data: { values },
        facet: { column: { field: "run", type: "nominal", title: null, sort: runs.map((run) => run.name), header: { labelLimit: 300 } } },
        spec: { width: 240, height: 220, layer },
    } as unknown as TopLevelSpec;
}

/** Accuracy with its 95% interval per run and selection (bars and error bars). */
export function metricsSpec(runs: readonly ReportRun[]): TopLevelSpec {
    const values = runs.flatMap((run) => {
        const s = run.summary;
        return [
            { run: run.name, metric: "selected (method)", value: s.accuracy, low: s.ci95.low, high: s.ci95.high },
            { run: run.name, metric: "majority", value: s.majority.accuracy, low: s.majority.ci95.low, high: s.majority.ci95.high },
            { run: run.name, metric: "weighted", value: s.weighted.accuracy, low: s.weighted.ci95.low, high: s.weighted.ci95.high },
            { run: run.name, metric: `pass@K (oracle)`, value: s.pass_at_k.accuracy, low: s.pass_at_k.ci95.low, high: s.pass_at_k.ci95.high },
        ];
    });
    return {
        ...base,
        title: "Accuracy with 95% intervals",
        data: { values },
        width: { step: 16 },
        height: 220,
        encoding: { x: { field: "metric", type: "nominal", title: null, sort: null }, xOffset: { field: "run" } },
        layer: [
            { mark: "bar", encoding: { y: { field: "value", type: "quantitative", title: "accuracy", axis: { format: ".0%" }, scale: { domain: [0, 1] } }, color: { field: "run", type: "nominal", title: null, legend: { labelLimit: 300 } } } },
            { mark: { type: "rule", color: "black" }, encoding: { y: { field: "low", type: "quantitative" }, y2: { field: "high" } } },
        ],
    } as unknown as TopLevelSpec;
}

/** Accuracy by the records' level (MATH `level`, synthetic `steps`), when they carry one. */
export function difficultySpec(runs: readonly ReportRun[]): TopLevelSpec | null {
    const values: { run: string; level: string; accuracy: number; problems: number }[] = [];
    for (const run of runs) {
        const levels = new Map<string, { correct: number; total: number }>();
        for (const record of run.records) {
            if (record.level === null) continue;
            const entry = levels.get(record.level) ?? { correct: 0, total: 0 };
            entry.total += 1;
            if (record.correct) entry.correct += 1;
            levels.set(record.level, entry);
        }
        for (const [level, entry] of levels) values.push({ run: run.name, level, accuracy: entry.correct / entry.total, problems: entry.total });
    }
    if (values.length === 0) return null;
    const order = [...new Set(values.map((v) => v.level))].sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
    return {
        ...base,
        title: "Accuracy by difficulty (selected answer)",
        data: { values },
        width: { step: 18 },
        height: 200,
        mark: "bar",
        encoding: {
            x: { field: "level", type: "ordinal", sort: order, title: "level" },
            xOffset: { field: "run" },
            y: { field: "accuracy", type: "quantitative", axis: { format: ".0%" }, scale: { domain: [0, 1] } },
            color: { field: "run", type: "nominal", title: null, legend: { labelLimit: 300 } },
            tooltip: [{ field: "run" }, { field: "level" }, { field: "accuracy", format: ".1%" }, { field: "problems" }],
        },
    } as unknown as TopLevelSpec;
}

/** Seconds and tokens per problem, per run. */
export function costSpec(runs: readonly ReportRun[]): TopLevelSpec {
    const values = runs.flatMap((run) => [
        { run: run.name, measure: "seconds / problem", value: run.summary.seconds_per_problem },
        { run: run.name, measure: "tokens / problem", value: run.summary.tokens_per_problem },
        { run: run.name, measure: "requests / problem", value: run.summary.requests_per_problem },
    ]);
    return {
        ...base,
        title: "Cost per problem",
        data: { values },
        facet: { column: { field: "measure", type: "nominal", title: null } },
        resolve: { scale: { x: "independent" } },
        spec: {
            width: 180,
            height: { step: 22 },
            mark: "bar",
            encoding: {
                y: { field: "run", type: "nominal", title: null },
                x: { field: "value", type: "quantitative", title: null },
                color: { field: "run", type: "nominal", legend: null },
                tooltip: [{ field: "run" }, { field: "value", format: ".2f" }],
            },
        },
    } as unknown as TopLevelSpec;
}

/** One evaluation of one self-evolution round (accuracy with its 95% interval), as the rounds chart takes it. */
export interface RoundPoint {
    round: number;
    split: string;
    method: string;
    accuracy: number;
    low: number | null;
    high: number | null;
}

/**
 * Accuracy by round, one line per evaluation method, one panel per split, with 95% interval bars. Methods are spread
 * a little along the round axis so their interval bars do not cover each other.
 */
export function roundsAccuracySpec(points: readonly RoundPoint[]): TopLevelSpec | null {
    if (points.length === 0) return null;
    const methods = [...new Set(points.map((p) => p.method))];
    const splits = [...new Set(points.map((p) => p.split))];
    const rounds = [...new Set(points.map((p) => p.round))].sort((a, b) => a - b);
    const spread = 0.08;
    const values = points.map((p) => ({
        ...p,
        x: p.round + (methods.indexOf(p.method) - (methods.length - 1) / 2) * spread,
        low: p.low ?? p.accuracy,
        high: p.high ?? p.accuracy,
    }));
    const x = { field: "x", type: "quantitative", title: "round", scale: { domain: [rounds[0]! - 0.5, rounds[rounds.length - 1]! + 0.5], nice: false }, axis: { values: rounds, format: "d" } };
    const color = { field: "method", type: "nominal", title: "method", sort: methods, legend: { labelLimit: 300 } };
    const layer = [
        { mark: { type: "rule", strokeWidth: 1.5 }, encoding: { x, y: { field: "low", type: "quantitative" }, y2: { field: "high" }, color } },
        {
            mark: { type: "line", point: true },
            encoding: {
                x,
                y: { field: "accuracy", type: "quantitative", title: "accuracy", axis: { format: ".0%" }, scale: { domain: [0, 1] } },
                color,
                tooltip: [{ field: "round" }, { field: "split" }, { field: "method" }, { field: "accuracy", format: ".1%" }, { field: "low", format: ".1%" }, { field: "high", format: ".1%" }],
            },
        },
    ];
    return {
        ...base,
        title: "Accuracy by round (bars: 95% intervals)",
        data: { values },
        facet: { column: { field: "split", type: "nominal", title: null, sort: splits } },
        spec: { width: 300, height: 220, layer },
    } as unknown as TopLevelSpec;
}

/** Seconds per stage in each round, stacked. */
export function roundsTimeSpec(rows: readonly { round: number; stage: string; seconds: number }[]): TopLevelSpec | null {
    if (rows.length === 0) return null;
    const stages = [...new Set(rows.map((r) => r.stage))];
    return {
        ...base,
        title: "Time per stage and round",
        data: { values: rows.map((r) => ({ ...r, order: stages.indexOf(r.stage) })) },
        width: 560,
        height: { step: 26 },
        mark: "bar",
        encoding: {
            y: { field: "round", type: "ordinal", title: "round" },
            x: { field: "seconds", type: "quantitative", title: "seconds", stack: "zero" },
            color: { field: "stage", type: "nominal", sort: stages, scale: { scheme: "category20" }, legend: { labelLimit: 300, columns: 2 } },
            order: { field: "order" },
            tooltip: [{ field: "round" }, { field: "stage" }, { field: "seconds", format: ".1f" }],
        },
    } as unknown as TopLevelSpec;
}
