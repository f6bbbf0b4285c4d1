import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { RstarError } from "../errors/index.js";
import { loadReportRun, readEval, type EvalProblemRecord, type EvalSummary } from "../eval/index.js";
import { RunStore } from "../runs/index.js";
import type { AnswerJudge } from "../search/index.js";
import { parseJson } from "../util/index.js";
import { runFile, type CatalogRun } from "./catalog.js";
import { treeNodes } from "./tree-nodes.js";
import type { ProblemRow, ProblemTree, RunProgress } from "./api-types.js";

interface Graded {
    signature: string;
    summary: EvalSummary | null;
    source: "eval.json" | "store" | null;
    note: string | null;
    records: Map<number, EvalProblemRecord>;
}

type JsonObject = Record<string, unknown>;

function readJson(path: string | null): JsonObject | null {
    if (path === null) return null;
    try {
        const parsed = parseJson(readFileSync(path, "utf8"));
        return parsed.ok && typeof parsed.value === "object" && parsed.value !== null && !Array.isArray(parsed.value) ? (parsed.value as JsonObject) : null;
    } catch {
        return null;
    }
}

const stamp = (path: string | null) => {
    if (path === null) return "-";
    try {
        const stat = statSync(path);
        return `${stat.size}:${stat.mtimeMs}`;
    } catch {
        return "-";
    }
};

/**
 * Reads runs for the viewer: progress, settings, metrics (the functions `rstar eval` and `rstar report` use, so the
 * numbers are theirs), problem rows and trees. Everything is read-only (the store is opened read-only, WAL-safe
 * while a search writes); files are read only inside the run's root (a link out is refused).
 */
export class RunReader {
    private readonly graded = new Map<string, Promise<Graded>>();
    private readonly gradedSignature = new Map<string, string>();
    private readonly progressCache = new Map<string, { signature: string; progress: RunProgress }>();

    constructor(
        private readonly roots: readonly string[],
        private readonly judge: AnswerJudge,
    ) {}

    private file(run: CatalogRun, name: string): string | null {
        return runFile(this.roots, run.dir, name);
    }

    /** A cheap fingerprint of the run's files: it changes whenever the run records something. */
    signature(run: CatalogRun): string {
        if (run.kind === "evolve") {
            const rounds = roundDirs(run.dir);
            return [stamp(this.file(run, "report.json")), ...rounds.map((round) => stamp(this.file(run, join(round, "state.json"))))].join("|");
        }
        return ["config.json", "eval.json", "store.sqlite", "store.sqlite-wal"].map((name) => stamp(this.file(run, name))).join("|");
    }

    /** The run's counts, recomputed only when its files changed. */
    progress(run: CatalogRun): RunProgress {
        const signature = this.signature(run);
        const cached = this.progressCache.get(run.id);
        if (cached !== undefined && cached.signature === signature) return cached.progress;
        const progress = run.kind === "evolve" ? this.evolveProgress(run) : this.runProgress(run);
        this.progressCache.set(run.id, { signature, progress });
        return progress;
    }

    private runProgress(run: CatalogRun): RunProgress {
        const config = readJson(this.file(run, "config.json"));
        const dataset = config?.["dataset"] as { problems?: unknown } | undefined;
        const total = typeof dataset?.problems === "number" ? dataset.problems : null;
        const storePath = this.file(run, "store.sqlite");
        let counts = { finished: 0, failed: 0 };
        if (storePath !== null) {
            const store = new RunStore(storePath, { readOnly: true });
            try {
                counts = store.counts();
            } finally {
                store.close();
            }
        }
        const updatedAt = Math.max(0, ...["config.json", "eval.json", "store.sqlite", "store.sqlite-wal"].map((name) => mtime(this.file(run, name))));
        const finished = run.kind === "eval" || (total !== null && counts.finished >= total);
        return { done: counts.finished, total, failed: counts.failed, finished, updatedAt };
    }

    private evolveProgress(run: CatalogRun): RunProgress {
        const config = readJson(this.file(run, "config.json"));
        const rounds = roundDirs(run.dir);
        const planned = typeof config?.["rounds"] === "number" ? config["rounds"] : Array.isArray(config?.["rounds"]) ? (config["rounds"] as unknown[]).length : null;
        const table = readJson(this.file(run, "report.json"))?.["table"];
        const reported = Math.max(rounds.filter((round) => this.file(run, join(round, "report.json")) !== null).length, Array.isArray(table) ? table.length : 0);
        const updatedAt = Math.max(0, mtime(this.file(run, "report.json")), ...rounds.map((round) => mtime(this.file(run, join(round, "state.json")))));
        return { done: reported, total: planned, failed: 0, finished: planned !== null && reported >= planned, updatedAt };
    }

    /**
     * Graded problems and the metrics: an eval run's eval.json and problems.jsonl as `rstar eval` wrote them; a search
     * run graded from its store against the gold answers its records carry, as `rstar report` does. Cached until the
     * run's files change.
     */
    private async grade(run: CatalogRun): Promise<Graded> {
        const signature = this.signature(run);
        const cached = this.graded.get(run.id);
        if (cached !== undefined && this.gradedSignature.get(run.id) === signature) return cached;
        const work = this.computeGraded(run, signature);
        this.graded.set(run.id, work);
        this.gradedSignature.set(run.id, signature);
        work.catch(() => {
            if (this.graded.get(run.id) === work) this.graded.delete(run.id);
        });
        return work;
    }

    private async computeGraded(run: CatalogRun, signature: string): Promise<Graded> {
        const evalSummary = this.file(run, "eval.json");
        if (evalSummary !== null) {
            if (existsSync(join(run.dir, "problems.jsonl")) && this.file(run, "problems.jsonl") === null) throw new RstarError("INVALID_INPUT", `${run.path}/problems.jsonl links out of the run`);
            const { summary, records } = readEval(run.dir);
            return { signature, summary, source: "eval.json", note: null, records: new Map(records.map((record) => [record.index, record])) };
        }
        if (this.file(run, "store.sqlite") === null || this.file(run, "config.json") === null) {
            return { signature, summary: null, source: null, note: "no store yet", records: new Map() };
        }
        const loaded = await loadReportRun(run.dir, this.judge);
        if (loaded.summary.problems === 0) {
            return { signature, summary: null, source: null, note: "no graded problems yet: the store holds no gold answers (an eval run is graded when it finishes)", records: new Map() };
        }
        return { signature, summary: loaded.summary, source: "store", note: null, records: new Map(loaded.records.map((record) => [record.index, record])) };
    }

    async summary(run: CatalogRun, related: readonly CatalogRun[]): Promise<JsonObject> {
        const base = { id: run.id, kind: run.kind, path: run.path, parent: run.parent, progress: this.progress(run) };
        if (run.kind === "evolve") return { ...base, ...this.evolveSummary(run, related) };
        const config = readJson(this.file(run, "config.json"));
        const graded = await this.grade(run);
        return {
            ...base,
            config: config === null ? null : { createdAt: config["createdAt"] ?? null, dataset: config["dataset"] ?? null, preset: config["preset"] ?? null, policy: config["policy"] ?? null, rewardModel: config["rewardModel"] ?? null, settings: config["settings"] ?? null },
            metrics: graded.summary,
            metrics_source: graded.source,
            metrics_note: graded.note,
        };
    }

    private evolveSummary(run: CatalogRun, related: readonly CatalogRun[]): JsonObject {
        const report = readJson(this.file(run, "report.json"));
        const rounds = roundDirs(run.dir).map((name) => {
            const round = Number(name.slice("round-".length));
            const state = readJson(this.file(run, join(name, "state.json")));
            const roundReport = readJson(this.file(run, join(name, "report.json")));
            const prefix = join(run.dir, name);
            const runs = related
                .filter((other) => other.parent === run.id && (other.dir === prefix || other.dir.startsWith(prefix + "/")))
                .map((other) => ({ id: other.id, kind: other.kind, path: other.path, name: other.dir.slice(prefix.length + 1) }));
            const stages = state?.["stages"];
            return { round, stages: typeof stages === "object" && stages !== null ? stages : null, report: roundReport, runs };
        });
        return { config: readJson(this.file(run, "config.json")), table: Array.isArray(report?.["table"]) ? report["table"] : null, rounds };
    }

    async problems(run: CatalogRun): Promise<ProblemRow[]> {
        if (run.kind === "evolve") throw new RstarError("INVALID_ARGUMENT", `${run.path} is an evolve run: open one of its rounds' runs`);
        const graded = await this.grade(run);
        const storePath = this.file(run, "store.sqlite");
        const rows: ProblemRow[] = [];
        const seen = new Set<number>();
        if (storePath !== null) {
            const store = new RunStore(storePath, { readOnly: true });
            try {
                for (const { position, result } of store.results()) {
                    seen.add(position);
                    rows.push(problemRow(position, result, graded.records.get(position)));
                }
            } finally {
                store.close();
            }
        }
        // An eval directory without its store (copied elsewhere) still lists its graded problems.
        for (const record of graded.records.values()) if (!seen.has(record.index)) rows.push(problemRow(record.index, null, record));
        return rows.sort((a, b) => a.index - b.index);
    }

    /** The tree of one problem, or null when that problem is not in the store (yet). */
    async tree(run: CatalogRun, index: number): Promise<ProblemTree | null> {
        if (run.kind === "evolve") throw new RstarError("INVALID_ARGUMENT", `${run.path} is an evolve run: open one of its rounds' runs`);
        const storePath = this.file(run, "store.sqlite");
        if (storePath === null) return null;
        const store = new RunStore(storePath, { readOnly: true });
        let stored;
        try {
            stored = store.get(index);
        } finally {
            store.close();
        }
        if (stored === null) return null;
        const graded = (await this.grade(run)).records.get(index);
        const result = stored.result;
        const nodes = treeNodes(stored.tree["rstar"]);
        let selectedTag: string | null = graded?.trajectory.at(-1)?.tag ?? null;
        const selectedAnswer = graded !== undefined ? graded.selected_answer : typeof result["selected_answer"] === "string" ? result["selected_answer"] : null;
        if (selectedTag === null && selectedAnswer !== null) {
            const terminals = Array.isArray(result["terminal_answers"]) ? (result["terminal_answers"] as { answer?: unknown; value?: unknown; tag?: unknown }[]) : [];
            const match = terminals.find((terminal) => terminal.answer === selectedAnswer && terminal.value === result["selected_value"]) ?? terminals.find((terminal) => terminal.answer === selectedAnswer);
            selectedTag = typeof match?.tag === "string" ? match.tag : null;
        }
        return {
            index,
            question: typeof result["question"] === "string" ? result["question"] : "",
            gold: graded?.gold ?? goldOf(result),
            selected_answer: selectedAnswer,
            selected_tag: selectedTag,
            correct: graded !== undefined ? graded.correct : typeof result["correct"] === "boolean" ? result["correct"] : null,
            nodes,
        };
    }
}

function goldOf(result: JsonObject | null): string | string[] | null {
    const answer = result?.["answer"];
    return typeof answer === "string" || Array.isArray(answer) ? (answer as string | string[]) : null;
}

function problemRow(index: number, result: JsonObject | null, graded: EvalProblemRecord | undefined): ProblemRow {
    const number = (key: string) => (typeof result?.[key] === "number" ? (result[key] as number) : null);
    const terminals = Array.isArray(result?.["terminal_answers"]) ? (result["terminal_answers"] as { answer?: unknown }[]) : [];
    const error = result?.["error"] as { message?: unknown } | null | undefined;
    const rawVotes = new Map<string, number>();
    for (const terminal of terminals) if (typeof terminal.answer === "string") rawVotes.set(terminal.answer, (rawVotes.get(terminal.answer) ?? 0) + 1);
    return {
        index,
        question: graded?.question ?? (typeof result?.["question"] === "string" ? result["question"] : ""),
        gold: graded?.gold ?? goldOf(result),
        level: graded?.level ?? null,
        selected_answer: graded !== undefined ? graded.selected_answer : typeof result?.["selected_answer"] === "string" ? result["selected_answer"] : null,
        selected_value: graded !== undefined ? graded.selected_value : number("selected_value"),
        correct: graded?.correct ?? null,
        pass_any: graded?.pass_at_k ?? null,
        majority_correct: graded?.majority_correct ?? null,
        weighted_correct: graded?.weighted_correct ?? null,
        trajectories: graded?.terminals.length ?? terminals.length,
        votes: graded !== undefined ? graded.votes.map((vote) => ({ answer: vote.answer, votes: vote.votes, correct: vote.correct })) : [...rawVotes].map(([answer, votes]) => ({ answer, votes, correct: null })).sort((a, b) => b.votes - a.votes),
        rollouts: number("rollouts"),
        nodes: number("nodes"),
        tokens: graded?.tokens ?? (number("prompt_tokens") ?? 0) + (number("completion_tokens") ?? 0),
        seconds: graded?.seconds ?? (number("duration_ms") ?? 0) / 1000,
        error: graded?.error ?? (error === null || error === undefined ? null : typeof error.message === "string" ? error.message : "failed"),
    };
}

function mtime(path: string | null): number {
    if (path === null) return 0;
    try {
        return statSync(path).mtimeMs;
    } catch {
        return 0;
    }
}

function roundDirs(dir: string): string[] {
    try {
        return readdirSync(dir)
            .filter((name) => /^round-\d+$/.test(name))
            .sort((a, b) => Number(a.slice(6)) - Number(b.slice(6)));
    } catch {
        return [];
    }
}
