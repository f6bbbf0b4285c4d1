import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { InputError } from "../errors/index.js";
import { isPlainObject, parseJson } from "../util/index.js";
import { EVOLVE_REPORT_FORMAT, ROUND_REPORT_FORMAT, buildRoundReport, type RoundReport } from "./report.js";
import { readState } from "./state.js";

/**
 * An evolve directory as `rstar report` shows it: every round that has a report (`round-N/report.json`, else its entry
 * in `DIR/report.json`), and a round still running built from its state file and what its finished stages wrote.
 */

export interface Interval {
    low: number;
    high: number;
}

export interface EvolveEvalView {
    /** The evaluation's directory name under round-N/eval/ (`test-maj-at-8`). */
    name: string;
    split: string;
    method: string;
    accuracy: number | null;
    ci95: Interval | null;
    problems: number | null;
    /** The evaluation run directory, when it has its eval.json. */
    runDir: string | null;
}

export interface HeldoutView {
    accuracy: number | null;
    pairs: number;
    problems: number;
    wilson95: Interval | null;
}

export interface EvolveRoundView {
    round: number;
    /** False for a round whose report stage has not run yet (built from its state file). */
    complete: boolean;
    problems: number;
    coverage: number | null;
    sftRecords: number;
    ppmPairs: number;
    ppmHeldout: HeldoutView | null;
    ppmHeldoutFinalAnswer: HeldoutView | null;
    evals: EvolveEvalView[];
    stages: { name: string; status: string; seconds: number }[];
    secondsTotal: number;
}

export interface EvolveDirView {
    dir: string;
    /** Rounds the config plans (null when config.json cannot be read). */
    plannedRounds: number | null;
    rounds: EvolveRoundView[];
}

/** An evolve directory: a `report.json` of format rstar-evolve-report/1, or `config.json` with `round-N/` folders. */
export function isEvolveDir(dir: string): boolean {
    if (!isDirectory(dir)) return false;
    const report = readJsonLoose(join(dir, "report.json"));
    if (isPlainObject(report) && report["format"] === EVOLVE_REPORT_FORMAT) return true;
    return existsSync(join(dir, "config.json")) && roundNumbers(dir).length > 0;
}

const nullableNumber = z.number().nullable().optional();
const heldoutSchema = z.object({ accuracy: nullableNumber, pairs: z.number(), problems: z.number().optional(), wilson95: z.unknown().optional() });
const roundReportSchema = z.object({
    format: z.literal(ROUND_REPORT_FORMAT),
    round: z.number().int().positive(),
    problems: z.number(),
    coverage: nullableNumber,
    sftRecords: z.number(),
    ppmPairs: z.number(),
    ppmHeldout: heldoutSchema.extend({ byKind: z.record(z.string(), heldoutSchema).optional() }).nullable().optional(),
    evals: z.record(z.string(), z.object({ accuracy: nullableNumber, ci95: z.unknown().optional(), problems: nullableNumber })),
    stages: z.record(z.string(), z.object({ status: z.string(), seconds: z.number() })),
    secondsTotal: z.number(),
});
type ParsedRound = z.infer<typeof roundReportSchema>;

/** Reads an evolve directory (see isEvolveDir); a malformed report is an InputError naming the file and field. */
export function readEvolveDir(dir: string): EvolveDirView {
    const config = readJsonLoose(join(dir, "config.json"));
    const plannedRounds = isPlainObject(config) && Array.isArray(config["rounds"]) ? config["rounds"].length : null;
    const fromTable = new Map<number, ParsedRound>();
    const tablePath = join(dir, "report.json");
    const table = readJson(tablePath);
    if (isPlainObject(table) && table["format"] === EVOLVE_REPORT_FORMAT && Array.isArray(table["rounds"])) {
        table["rounds"].forEach((entry, i) => {
            const round = parseRound(entry, tablePath, `rounds.${i}`);
            fromTable.set(round.round, round);
        });
    }
    const numbers = [...new Set([...roundNumbers(dir), ...fromTable.keys()])].sort((a, b) => a - b);
    const rounds: EvolveRoundView[] = [];
    for (const n of numbers) {
        const rd = join(dir, `round-${n}`);
        const reportPath = join(rd, "report.json");
        const own = readJson(reportPath);
        if (own !== null) {
            rounds.push(view(dir, parseRound(own, reportPath, ""), true));
            continue;
        }
        const listed = fromTable.get(n);
        if (listed !== undefined) {
            rounds.push(view(dir, listed, true));
            continue;
        }
        const state = readState(join(rd, "state.json"));
        if (state === null) continue;
        const partial: RoundReport = buildRoundReport(dir, n, state, searchRuns(rd));
        rounds.push(view(dir, parseRound(partial, join(rd, "state.json"), ""), false));
    }
    return { dir, plannedRounds, rounds };
}

function parseRound(value: unknown, file: string, prefix: string): ParsedRound {
    const checked = roundReportSchema.safeParse(value);
    if (!checked.success) {
        const issue = checked.error.issues[0];
        const field = [prefix, ...(issue?.path ?? []).map(String)].filter((part) => part !== "").join(".");
        throw new InputError(`not a round report: ${issue?.message ?? "invalid"}`, field === "" ? { file } : { file, field });
    }
    return checked.data;
}

function view(dir: string, r: ParsedRound, complete: boolean): EvolveRoundView {
    const heldout = (h: z.infer<typeof heldoutSchema> | undefined | null): HeldoutView | null =>
        h === undefined || h === null ? null : { accuracy: h.accuracy ?? null, pairs: h.pairs, problems: h.problems ?? 0, wilson95: interval(h.wilson95) };
    const evals = Object.entries(r.evals).map(([name, row]): EvolveEvalView => {
        const cut = name.indexOf("-");
        const runDir = join(dir, `round-${r.round}`, "eval", name);
        return {
            name,
            split: cut < 0 ? "" : name.slice(0, cut),
            method: (cut < 0 ? name : name.slice(cut + 1)).replace(/-at-/g, "@"),
            accuracy: row.accuracy ?? null,
            ci95: interval(row.ci95),
            problems: row.problems ?? null,
            runDir: existsSync(join(runDir, "eval.json")) ? runDir : null,
        };
    });
    const splitRank = (split: string) => (split === "test" ? 0 : split === "ood" ? 1 : 2);
    evals.sort((a, b) => splitRank(a.split) - splitRank(b.split));
    return {
        round: r.round,
        complete,
        problems: r.problems,
        coverage: r.coverage ?? null,
        sftRecords: r.sftRecords,
        ppmPairs: r.ppmPairs,
        ppmHeldout: heldout(r.ppmHeldout),
        ppmHeldoutFinalAnswer: heldout(r.ppmHeldout?.byKind?.["final_answer"]),
        evals,
        stages: Object.entries(r.stages).map(([name, s]) => ({ name, status: s.status, seconds: s.seconds })),
        secondsTotal: r.secondsTotal,
    };
}

/** `{low, high}` (eval summaries) or `[low, high]` (the PPM trainer's Wilson intervals). */
function interval(value: unknown): Interval | null {
    if (Array.isArray(value) && value.length === 2 && typeof value[0] === "number" && typeof value[1] === "number") return { low: value[0], high: value[1] };
    if (isPlainObject(value) && typeof value["low"] === "number" && typeof value["high"] === "number") return { low: value["low"], high: value["high"] };
    return null;
}

function roundNumbers(dir: string): number[] {
    const numbers: number[] = [];
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const match = /^round-(\d+)$/.exec(entry.name);
        if (match !== null && entry.isDirectory()) numbers.push(Number(match[1]));
    }
    return numbers;
}

/** A round's search run directories that exist: the main search, then the unsolved passes in order. */
function searchRuns(rd: string): string[] {
    const more = readdirSync(rd)
        .map((name) => /^search-unsolved-(\d+)$/.exec(name))
        .filter((match): match is RegExpExecArray => match !== null)
        .sort((a, b) => Number(a[1]) - Number(b[1]))
        .map((match) => join(rd, match[0]));
    return [join(rd, "search"), ...more].filter((run) => existsSync(run));
}

function isDirectory(path: string): boolean {
    try {
        return statSync(path).isDirectory();
    } catch {
        return false;
    }
}

function readJsonLoose(path: string): unknown {
    if (!existsSync(path)) return null;
    const parsed = parseJson(readFileSync(path, "utf8"));
    return parsed.ok ? parsed.value : null;
}

function readJson(path: string): unknown {
    if (!existsSync(path)) return null;
    const parsed = parseJson(readFileSync(path, "utf8"));
    if (!parsed.ok) throw new InputError(parsed.error, { file: path });
    return parsed.value;
}
