import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { isPlainObject, parseJson } from "../util/index.js";
import { readOutcomes } from "./sample.js";
import { countLines } from "./stages.js";
import { writeJsonAtomic, type RoundState } from "./state.js";

/**
 * `round-N/report.json` (one round: data counts, coverage, checkpoints, evaluations, time per stage) and
 * `DIR/report.json` (one row per round, the table across rounds).
 */

export const ROUND_REPORT_FORMAT = "rstar-evolve-round/1";
export const EVOLVE_REPORT_FORMAT = "rstar-evolve-report/1";

export interface EvalRow {
    stage: string;
    accuracy: number | null;
    ci95: unknown;
    majority: number | null;
    weighted: number | null;
    pass_at_k: number | null;
    problems: number | null;
    tokens_per_problem: number | null;
    seconds_per_problem: number | null;
    out: string;
}

export interface RoundReport {
    format: typeof ROUND_REPORT_FORMAT;
    round: number;
    problems: number;
    /** Share of the searched problems with a correct trajectory in any of the round's searches. */
    coverage: number | null;
    solved: number;
    sftRecords: number;
    ppmPairs: number;
    finalAnswerPairs: number | null;
    /** Pairs from the round's policy's best-of-N samples (ppm.policySamples; 0 without them). */
    policySamplePairs: number;
    policy: string | null;
    ppm: string | null;
    /** What the trainers reported (metrics.json of `rstar train`; null for a command trainer that writes none). */
    policyMetrics: unknown;
    ppmMetrics: unknown;
    /**
     * The round's PPM on the pairs of problems it never trained on (the trainer holds out whole problems): accuracy
     * overall and by kind with sample sizes and Wilson intervals. Null when the PPM came from a command trainer.
     */
    ppmHeldout: PpmHeldout | null;
    /** ppm.misreadPretrain: its training pairs and the pretrained PPM on the held-out misread pairs; null when off. */
    misreadPretrain: { pairs: number; heldout: PpmHeldout | null } | null;
    evals: Record<string, EvalRow>;
    /** Seconds per stage (all attempts), and status. */
    stages: Record<string, { status: string; seconds: number; note: string | null }>;
    secondsTotal: number;
}

export interface HeldoutFigure {
    accuracy: number | null;
    pairs: number;
    problems: number;
    wilson95: unknown;
}
export interface PpmHeldout extends HeldoutFigure {
    byKind: Record<string, HeldoutFigure>;
}

/** metrics.heldout of `rstar train ppm` (train/ppm_heldout.py heldout_report) in the report's shape. */
export function ppmHeldoutOf(metrics: unknown): PpmHeldout | null {
    if (!isPlainObject(metrics) || !isPlainObject(metrics["heldout"])) return null;
    const figure = (value: unknown): HeldoutFigure | null => {
        if (!isPlainObject(value) || typeof value["pairs"] !== "number") return null;
        return {
            accuracy: typeof value["accuracy"] === "number" ? value["accuracy"] : null,
            pairs: value["pairs"],
            problems: typeof value["problems"] === "number" ? value["problems"] : 0,
            wilson95: value["wilson95"] ?? null,
        };
    };
    const heldout = metrics["heldout"];
    const overall = figure(heldout);
    if (overall === null) return null;
    const byKind: Record<string, HeldoutFigure> = {};
    if (isPlainObject(heldout["by_kind"])) {
        for (const [kind, value] of Object.entries(heldout["by_kind"])) {
            const f = figure(value);
            if (f !== null) byKind[kind] = f;
        }
    }
    return { ...overall, byKind };
}

export function buildRoundReport(dir: string, n: number, state: RoundState, searchRuns: string[]): RoundReport {
    const rd = join(dir, `round-${n}`);
    const searched = new Set<string>();
    const solved = new Set<string>();
    for (const run of searchRuns) {
        const outcome = readOutcomes(join(run, "results.jsonl"));
        for (const q of outcome.searched) searched.add(q);
        for (const q of outcome.solved) solved.add(q);
    }
    const ppmSummary = state.stages["extract-ppm"]?.summary;
    const evals: Record<string, EvalRow> = {};
    const evalDir = join(rd, "eval");
    if (existsSync(evalDir)) {
        for (const name of readdirSync(evalDir).sort()) {
            const summary = readJson(join(evalDir, name, "eval.json"));
            if (!isPlainObject(summary)) continue;
            const num = (value: unknown) => (typeof value === "number" ? value : null);
            const sub = (key: string) => (isPlainObject(summary[key]) ? num((summary[key] as Record<string, unknown>)["accuracy"]) : null);
            evals[name] = {
                stage: `eval-${name}`,
                accuracy: num(summary["accuracy"]),
                ci95: summary["ci95"] ?? null,
                majority: sub("majority"),
                weighted: sub("weighted"),
                pass_at_k: sub("pass_at_k"),
                problems: num(summary["problems"]),
                tokens_per_problem: num(summary["tokens_per_problem"]),
                seconds_per_problem: num(summary["seconds_per_problem"]),
                out: join(`round-${n}`, "eval", name),
            };
        }
    }
    const stages = Object.fromEntries(state.order.map((name) => {
        const s = state.stages[name];
        return [name, { status: s?.status ?? "pending", seconds: round3(s?.seconds ?? 0), note: s?.note ?? null }];
    }));
    const ppmMetrics = state.artifacts.ppm === null ? null : readJson(join(dir, state.artifacts.ppm, "metrics.json"));
    return {
        format: ROUND_REPORT_FORMAT,
        round: n,
        problems: countLines(join(rd, "problems.jsonl")),
        coverage: searched.size === 0 ? null : solved.size / searched.size,
        solved: solved.size,
        sftRecords: countLines(join(rd, "sft.jsonl")),
        ppmPairs: countLines(join(rd, "pairs.jsonl")),
        finalAnswerPairs: isPlainObject(ppmSummary) && typeof ppmSummary["finalAnswerPairs"] === "number" ? ppmSummary["finalAnswerPairs"] : null,
        policySamplePairs: countLines(join(rd, "policy-sample-pairs.jsonl")),
        policy: state.artifacts.policy,
        ppm: state.artifacts.ppm,
        policyMetrics: state.artifacts.policy === null ? null : readJson(join(dir, state.artifacts.policy, "metrics.json")),
        ppmMetrics,
        ppmHeldout: ppmHeldoutOf(ppmMetrics),
        misreadPretrain: state.order.includes("pretrain-ppm") ? { pairs: countLines(join(rd, "misread-pairs.jsonl")), heldout: ppmHeldoutOf(readJson(join(rd, "ppm-misreads", "metrics.json"))) } : null,
        evals,
        stages,
        secondsTotal: round3(Object.values(stages).reduce((sum, s) => sum + s.seconds, 0)),
    };
}

/** Writes DIR/report.json from every round's report.json; returns its path. */
export function writeEvolveReport(dir: string, rounds: number): string {
    const reports: RoundReport[] = [];
    for (let n = 1; n <= rounds; n += 1) {
        const report = readJson(join(dir, `round-${n}`, "report.json"));
        if (isPlainObject(report)) reports.push(report as unknown as RoundReport);
    }
    const table = reports.map((r) => ({
        round: r.round,
        problems: r.problems,
        coverage: r.coverage,
        sft_records: r.sftRecords,
        ppm_pairs: r.ppmPairs,
        ppm_heldout: r.ppmHeldout?.accuracy ?? null,
        ppm_heldout_final_answer: r.ppmHeldout?.byKind["final_answer"]?.accuracy ?? null,
        ...Object.fromEntries(Object.entries(r.evals).map(([name, row]) => [name, row.accuracy])),
        seconds: r.secondsTotal,
    }));
    const path = join(dir, "report.json");
    writeJsonAtomic(path, { format: EVOLVE_REPORT_FORMAT, rounds: reports, table });
    return path;
}

/** A JSON file's value, or null when it is missing or not JSON. */
export function readJson(path: string): unknown {
    if (!existsSync(path)) return null;
    const parsed = parseJson(readFileSync(path, "utf8"));
    return parsed.ok ? parsed.value : null;
}

function round3(x: number): number {
    return Math.round(x * 1000) / 1000;
}
