import { useEffect, useRef, useState } from "preact/hooks";
import type { ProblemRow, ProblemTree, RunListEntry, RunProgress, TreeNode } from "../api-types.js";

export type { ProblemRow, ProblemTree, RunListEntry, RunProgress, TreeNode };

export interface Interval {
    low: number;
    high: number;
}

/** The fields of `rstar eval`'s summary (eval.json) the page shows. */
export interface Metrics {
    method: string;
    problems: number;
    total: number;
    failed: number;
    accuracy: number;
    ci95: Interval;
    top_value: { accuracy: number; ci95: Interval };
    majority: { accuracy: number; ci95: Interval; top_k: number };
    weighted: { accuracy: number; ci95: Interval; top_k: number };
    pass_at_k: { accuracy: number; ci95: Interval; k: number };
    tokens_per_problem: number;
    requests_per_problem: number;
    seconds_per_problem: number;
    trajectories_per_problem: number;
}

export interface RunConfig {
    createdAt: string | null;
    dataset: { path: string; sha256: string; problems: number } | null;
    preset: string | null;
    policy: { id: string; model: string } | null;
    rewardModel: string | null;
    settings: Record<string, unknown> | null;
}

export interface SearchRunSummary {
    id: string;
    kind: "search" | "eval";
    path: string;
    parent: string | null;
    progress: RunProgress;
    config: RunConfig | null;
    metrics: Metrics | null;
    metrics_source: "eval.json" | "store" | null;
    metrics_note: string | null;
}

export interface EvolveRound {
    round: number;
    stages: Record<string, { status?: string; seconds?: number; note?: string | null }> | null;
    report: Record<string, unknown> | null;
    runs: { id: string; kind: string; path: string; name: string }[];
}

export interface EvolveRunSummary {
    id: string;
    kind: "evolve";
    path: string;
    parent: string | null;
    progress: RunProgress;
    config: Record<string, unknown> | null;
    table: Record<string, unknown>[] | null;
    rounds: EvolveRound[];
}

export type RunSummary = SearchRunSummary | EvolveRunSummary;

export class ApiError extends Error {
    constructor(
        readonly status: number,
        message: string,
    ) {
        super(message);
    }
}

export async function getJson<T>(path: string): Promise<T> {
    const response = await fetch(path, { headers: { accept: "application/json" } });
    const body = (await response.json().catch(() => null)) as { error?: { message?: string } } | null;
    if (!response.ok) throw new ApiError(response.status, body?.error?.message ?? `${response.status} ${response.statusText}`);
    return body as T;
}

/** The run list, kept current by the server's event stream (one connection per page; the server pushes changes). */
export function useRunList(): { runs: RunListEntry[] | null; connected: boolean } {
    const [runs, setRuns] = useState<RunListEntry[] | null>(null);
    const [connected, setConnected] = useState(false);
    useEffect(() => {
        const source = new EventSource("api/events");
        source.addEventListener("runs", (event) => {
            setConnected(true);
            try {
                setRuns((JSON.parse((event as MessageEvent<string>).data) as { runs: RunListEntry[] }).runs);
            } catch {
                // a malformed event is skipped; the next one replaces the list
            }
        });
        source.addEventListener("open", () => setConnected(true));
        source.addEventListener("error", () => setConnected(false));
        return () => source.close();
    }, []);
    return { runs, connected };
}

/**
 * Fetches `path` now, and again whenever `version` changes, at most once per `minGapMs` (throttled, so a run that
 * changes every half second still refreshes); keeps the last data while reloading.
 */
export function useFetched<T>(path: string | null, version: unknown, minGapMs = 1000): { data: T | null; error: string | null } {
    const [state, setState] = useState<{ path: string | null; data: T | null; error: string | null }>({ path: null, data: null, error: null });
    const last = useRef<{ path: string | null; at: number }>({ path: null, at: 0 });
    // Answers for another path (the user moved on) are dropped; answers for an older version of this one are kept.
    const current = useRef<string | null>(null);
    useEffect(() => {
        current.current = path;
        if (path === null) return;
        const wait = last.current.path === path ? Math.max(0, last.current.at + minGapMs - Date.now()) : 0;
        const timer = setTimeout(() => {
            last.current = { path, at: Date.now() };
            getJson<T>(path).then(
                (data) => current.current === path && setState({ path, data, error: null }),
                (error: unknown) => current.current === path && setState((old) => ({ path, data: old.path === path ? old.data : null, error: (error as Error).message })),
            );
        }, wait);
        return () => clearTimeout(timer);
    }, [path, JSON.stringify(version)]);
    return state.path === path ? { data: state.data, error: state.error } : { data: null, error: null };
}
