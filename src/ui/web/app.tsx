import { useEffect, useMemo, useState } from "preact/hooks";
import { useFetched, useRunList, type EvolveRunSummary, type Interval, type ProblemRow, type ProblemTree, type RunListEntry, type RunSummary, type SearchRunSummary, type TreeNode } from "./api.js";
import { NodeDetail, StepBody } from "./step.js";
import { COLOUR_SCALES, TreeView, colourOf, pathTo, type ColourScale } from "./tree-view.js";

type Route = { view: "runs" } | { view: "run"; id: string } | { view: "problem"; id: string; index: number };

function parseRoute(hash: string): Route {
    const parts = hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
    if (parts[0] === "run" && parts[1] !== undefined && /^[0-9a-f]{12}$/.test(parts[1])) {
        if (parts[2] === "problem" && parts[3] !== undefined && /^\d+$/.test(parts[3])) return { view: "problem", id: parts[1], index: Number(parts[3]) };
        return { view: "run", id: parts[1] };
    }
    return { view: "runs" };
}

function useRoute(): Route {
    const [route, setRoute] = useState(() => parseRoute(location.hash));
    useEffect(() => {
        const onChange = () => setRoute(parseRoute(location.hash));
        addEventListener("hashchange", onChange);
        return () => removeEventListener("hashchange", onChange);
    }, []);
    return route;
}

const pct = (value: number | null | undefined) => (value === null || value === undefined ? "–" : `${(100 * value).toFixed(1)}%`);
const ci = (interval: Interval | undefined) => (interval === undefined ? "" : `[${pct(interval.low)}, ${pct(interval.high)}]`);
const num = (value: number | null | undefined, digits = 1) => (value === null || value === undefined || !Number.isFinite(value) ? "–" : value.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits }));
const goldText = (gold: string | string[] | null) => (gold === null ? "–" : Array.isArray(gold) ? gold.join(" | ") : gold);

function ago(ms: number): string {
    if (ms <= 0) return "–";
    const seconds = Math.max(0, Math.round((Date.now() - ms) / 1000));
    if (seconds < 60) return `${seconds} s ago`;
    if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
    if (seconds < 86_400) return `${Math.round(seconds / 3600)} h ago`;
    return new Date(ms).toLocaleDateString();
}

function isLive(entry: RunListEntry): boolean {
    return !entry.progress.finished && Date.now() - entry.progress.updatedAt < 30_000;
}

/** Re-renders every few seconds, so "updated … ago" and the running badges age while no event arrives. */
function useClock(everyMs: number): void {
    const [, setNow] = useState(0);
    useEffect(() => {
        const timer = setInterval(() => setNow(Date.now()), everyMs);
        return () => clearInterval(timer);
    }, [everyMs]);
}

export function App() {
    const route = useRoute();
    const { runs, connected } = useRunList();
    useClock(5000);
    const entry = route.view === "runs" ? undefined : runs?.find((run) => run.id === route.id);
    return (
        <div class="page">
            <header class="top">
                <a class="brand" href="#/">
                    rstar ui
                </a>
                <nav class="crumbs" aria-label="breadcrumbs">
                    {route.view !== "runs" ? <a href="#/">runs</a> : <span>runs</span>}
                    {route.view !== "runs" && entry !== undefined ? (
                        <>
                            <span class="sep">/</span>
                            {route.view === "problem" ? <a href={`#/run/${route.id}`}>{entry.path}</a> : <span>{entry.path}</span>}
                        </>
                    ) : null}
                    {route.view === "problem" ? (
                        <>
                            <span class="sep">/</span>
                            <span>problem {route.index}</span>
                        </>
                    ) : null}
                </nav>
                <span class={connected ? "live-dot on" : "live-dot"} title={connected ? "live: updates arrive as runs write" : "not connected; retrying"}>
                    {connected ? "live" : "offline"}
                </span>
            </header>
            <main>
                {route.view === "runs" ? <RunList runs={runs} /> : null}
                {route.view === "run" ? <RunPage id={route.id} entry={entry} runs={runs ?? []} /> : null}
                {route.view === "problem" ? <ProblemPage id={route.id} index={route.index} entry={entry} /> : null}
            </main>
        </div>
    );
}

function Progress({ entry }: { entry: RunListEntry }) {
    const { done, total } = entry.progress;
    const share = total === null || total === 0 ? 0 : Math.min(1, done / total);
    return (
        <div class="progress" title={`${done} of ${total ?? "?"}`}>
            <div class="bar" style={{ width: `${(100 * share).toFixed(1)}%` }} />
        </div>
    );
}

function RunList({ runs }: { runs: RunListEntry[] | null }) {
    if (runs === null) return <p class="note">Loading runs…</p>;
    if (runs.length === 0) return <p class="note">No runs under the directories given (a run has config.json: rstar search, eval or evolve).</p>;
    return (
        <section>
            <h1>Runs</h1>
            <table class="runs" id="runs">
                <thead>
                    <tr>
                        <th>run</th>
                        <th>kind</th>
                        <th>progress</th>
                        <th class="n">done</th>
                        <th class="n">failed</th>
                        <th>updated</th>
                    </tr>
                </thead>
                <tbody>
                    {runs.map((run) => (
                        <tr key={run.id} data-run={run.id} class={run.parent !== null ? "child" : ""}>
                            <td>
                                <a href={`#/run/${run.id}`}>{run.path}</a>
                                {isLive(run) ? <span class="badge live">running</span> : null}
                            </td>
                            <td>{run.kind}</td>
                            <td>
                                <Progress entry={run} />
                            </td>
                            <td class="n count">
                                {run.progress.done} / {run.progress.total ?? "?"}
                                {run.kind === "evolve" ? " rounds" : ""}
                            </td>
                            <td class="n">{run.progress.failed}</td>
                            <td>{ago(run.progress.updatedAt)}</td>
                        </tr>
                    ))}
                </tbody>
            </table>
        </section>
    );
}

function RunPage({ id, entry, runs }: { id: string; entry: RunListEntry | undefined; runs: RunListEntry[] }) {
    const version = entry?.progress ?? null;
    const summary = useFetched<RunSummary>(`api/runs/${id}`, version, 1500);
    if (summary.error !== null && summary.data === null) return <p class="error">{summary.error}</p>;
    if (summary.data === null) return <p class="note">Loading…</p>;
    if (summary.data.kind === "evolve") return <EvolvePage summary={summary.data} />;
    return <SearchRunPage summary={summary.data} entry={entry} runs={runs} />;
}

function SettingsTable({ summary }: { summary: SearchRunSummary }) {
    const config = summary.config;
    if (config === null) return null;
    const rows: [string, string][] = [
        ["dataset", config.dataset === null ? "–" : `${config.dataset.path} (${config.dataset.problems} problems)`],
        ["policy", config.policy === null ? "–" : `${config.policy.id} (${config.policy.model})`],
        ["reward model", config.rewardModel ?? "none"],
        ["preset", config.preset ?? "–"],
        ["started", config.createdAt ?? "–"],
        ...Object.entries(config.settings ?? {}).map(([key, value]): [string, string] => [key, typeof value === "string" ? value : JSON.stringify(value)]),
    ];
    return (
        <details class="settings">
            <summary>Settings</summary>
            <table id="settings">
                <tbody>
                    {rows.map(([key, value]) => (
                        <tr key={key}>
                            <th>{key}</th>
                            <td>{value}</td>
                        </tr>
                    ))}
                </tbody>
            </table>
        </details>
    );
}

function MetricsTable({ summary }: { summary: SearchRunSummary }) {
    const m = summary.metrics;
    if (m === null) return <p class="note">{summary.metrics_note ?? "No metrics yet."}</p>;
    const rows: [string, number, Interval | undefined, string][] = [
        [`selected (${m.method})`, m.accuracy, m.ci95, ""],
        ["top value", m.top_value.accuracy, m.top_value.ci95, ""],
        ["majority", m.majority.accuracy, m.majority.ci95, m.majority.top_k > 0 ? `top ${m.majority.top_k}` : ""],
        ["weighted", m.weighted.accuracy, m.weighted.ci95, m.weighted.top_k > 0 ? `top ${m.weighted.top_k}` : ""],
        ["pass@K (oracle)", m.pass_at_k.accuracy, m.pass_at_k.ci95, `K=${m.pass_at_k.k}`],
    ];
    return (
        <div class="metrics-wrap">
            <table id="metrics">
                <thead>
                    <tr>
                        <th>answer chosen by</th>
                        <th class="n">accuracy</th>
                        <th>95% interval</th>
                        <th />
                    </tr>
                </thead>
                <tbody>
                    {rows.map(([label, value, interval, note]) => (
                        <tr key={label}>
                            <td>{label}</td>
                            <td class="n">{pct(value)}</td>
                            <td class="ci">{ci(interval)}</td>
                            <td class="ci">{note}</td>
                        </tr>
                    ))}
                </tbody>
            </table>
            <dl class="cost">
                <div>
                    <dt>graded</dt>
                    <dd>
                        {m.problems}
                        {m.failed > 0 ? ` (${m.failed} failed)` : ""}
                    </dd>
                </div>
                <div>
                    <dt>tokens / problem</dt>
                    <dd>{num(m.tokens_per_problem, 0)}</dd>
                </div>
                <div>
                    <dt>requests / problem</dt>
                    <dd>{num(m.requests_per_problem)}</dd>
                </div>
                <div>
                    <dt>s / problem</dt>
                    <dd>{num(m.seconds_per_problem, 2)}</dd>
                </div>
                <div>
                    <dt>trajectories / problem</dt>
                    <dd>{num(m.trajectories_per_problem)}</dd>
                </div>
            </dl>
            <p class="note">
                {summary.metrics_source === "eval.json" ? "From eval.json, as rstar eval wrote it." : "Graded from the store against the gold answers in its records, as rstar report does."} Intervals: 95% Wilson. pass@K looks at the gold answer: it is no selection method.
            </p>
        </div>
    );
}

type Filter = "all" | "correct" | "wrong" | "unsolved" | "not-chosen" | "failed" | "ungraded" | "only-here" | "only-there";
type SortKey = "index" | "correct" | "selected_value" | "trajectories" | "tokens" | "seconds" | "votes";

const FILTERS: { id: Filter; label: string; needsOther?: boolean }[] = [
    { id: "all", label: "all problems" },
    { id: "correct", label: "correct" },
    { id: "wrong", label: "wrong" },
    { id: "unsolved", label: "unsolved (no correct trajectory)" },
    { id: "not-chosen", label: "solved by search, not chosen" },
    { id: "failed", label: "failed" },
    { id: "ungraded", label: "not graded" },
    { id: "only-here", label: "right here, wrong in the other run", needsOther: true },
    { id: "only-there", label: "wrong here, right in the other run", needsOther: true },
];

function SearchRunPage({ summary, entry, runs }: { summary: SearchRunSummary; entry: RunListEntry | undefined; runs: RunListEntry[] }) {
    const progress = entry?.progress ?? summary.progress;
    const problems = useFetched<{ problems: ProblemRow[] }>(`api/runs/${summary.id}/problems`, progress, 1500);
    const [filter, setFilter] = useState<Filter>("all");
    const [query, setQuery] = useState("");
    const [sort, setSort] = useState<{ key: SortKey; descending: boolean }>({ key: "index", descending: false });
    const [otherId, setOtherId] = useState<string>("");
    const [limit, setLimit] = useState(PAGE);
    const other = useFetched<{ problems: ProblemRow[] }>(otherId === "" ? null : `api/runs/${otherId}/problems`, runs.find((run) => run.id === otherId)?.progress ?? null, 3000);
    const otherCorrect = useMemo(() => new Map((other.data?.problems ?? []).map((row) => [row.index, row.correct])), [other.data]);
    const rows = useMemo(() => {
        const all = problems.data?.problems ?? [];
        const needle = query.trim().toLowerCase();
        const kept = all.filter((row) => {
            if (needle !== "" && !row.question.toLowerCase().includes(needle) && !String(row.index).startsWith(needle)) return false;
            switch (filter) {
                case "all":
                    return true;
                case "correct":
                    return row.correct === true;
                case "wrong":
                    return row.correct === false;
                case "unsolved":
                    return row.pass_any === false;
                case "not-chosen":
                    return row.pass_any === true && row.correct === false;
                case "failed":
                    return row.error !== null;
                case "ungraded":
                    return row.correct === null;
                case "only-here":
                    return row.correct === true && otherCorrect.get(row.index) === false;
                case "only-there":
                    return row.correct === false && otherCorrect.get(row.index) === true;
            }
        });
        const value = (row: ProblemRow): number => {
            switch (sort.key) {
                case "index":
                    return row.index;
                case "correct":
                    return row.correct === null ? -1 : row.correct ? 1 : 0;
                case "selected_value":
                    return row.selected_value ?? -Infinity;
                case "votes":
                    return row.votes[0]?.votes ?? 0;
                default:
                    return row[sort.key];
            }
        };
        return [...kept].sort((a, b) => (value(a) - value(b) || a.index - b.index) * (sort.descending ? -1 : 1));
    }, [problems.data, filter, query, sort, otherCorrect]);

    const header = (key: SortKey, label: string, numeric = false) => (
        <th class={numeric ? "n sortable" : "sortable"} aria-sort={sort.key === key ? (sort.descending ? "descending" : "ascending") : "none"}>
            <button type="button" onClick={() => setSort((old) => ({ key, descending: old.key === key ? !old.descending : numeric }))}>
                {label}
                {sort.key === key ? (sort.descending ? " ▼" : " ▲") : ""}
            </button>
        </th>
    );
    const others = runs.filter((run) => run.id !== summary.id && run.kind !== "evolve");
    return (
        <section>
            <h1>
                {summary.path} <span class="kind">{summary.kind}</span>
                {entry !== undefined && isLive(entry) ? <span class="badge live">running</span> : null}
            </h1>
            <p class="counts">
                <span id="problem-count" class="big">
                    {progress.done}
                </span>{" "}
                of {progress.total ?? "?"} problems finished{progress.failed > 0 ? `, ${progress.failed} failed` : ""} · updated {ago(progress.updatedAt)}
            </p>
            {entry !== undefined ? <Progress entry={entry} /> : null}
            <SettingsTable summary={summary} />
            <h2>Metrics</h2>
            {summary.config?.settings?.["terminalReward"] === "ground-truth" ? (
                <p class="warn" id="saw-gold">
                    This search used ground-truth terminal rewards: its selection saw the gold answer, so its "selected" accuracy is pass@any, not an accuracy.
                </p>
            ) : null}
            <MetricsTable summary={summary} />
            <h2>Problems</h2>
            <div class="filters">
                <label>
                    show{" "}
                    <select id="problem-filter" value={filter} onChange={(event) => setFilter((event.currentTarget as HTMLSelectElement).value as Filter)}>
                        {FILTERS.filter((f) => !f.needsOther || otherId !== "").map((f) => (
                            <option key={f.id} value={f.id}>
                                {f.label}
                            </option>
                        ))}
                    </select>
                </label>
                <label>
                    search <input id="problem-search" type="search" value={query} placeholder="question text or #" onInput={(event) => setQuery((event.currentTarget as HTMLInputElement).value)} />
                </label>
                {others.length > 0 ? (
                    <label>
                        compare with{" "}
                        <select id="compare-run" value={otherId} onChange={(event) => setOtherId((event.currentTarget as HTMLSelectElement).value)}>
                            <option value="">(no other run)</option>
                            {others.map((run) => (
                                <option key={run.id} value={run.id}>
                                    {run.path}
                                </option>
                            ))}
                        </select>
                    </label>
                ) : null}
                <span class="note">
                    {rows.length} of {problems.data?.problems.length ?? 0} shown
                </span>
            </div>
            {problems.error !== null ? <p class="error">{problems.error}</p> : null}
            <div class="wide">
                <table class="problems" id="problems">
                    <thead>
                        <tr>
                            {header("index", "#", true)}
                            <th>question</th>
                            <th>gold</th>
                            <th>chosen answer</th>
                            {header("correct", "correct")}
                            {header("votes", "votes (answer × count)")}
                            {header("selected_value", "value", true)}
                            {header("trajectories", "trajectories", true)}
                            {header("tokens", "tokens", true)}
                            {header("seconds", "time (s)", true)}
                            {otherId !== "" ? <th>other run</th> : null}
                        </tr>
                    </thead>
                    <tbody>
                        {rows.slice(0, limit).map((row) => (
                            <tr key={row.index} data-index={row.index} class={row.correct === true ? "ok-row" : row.correct === false ? "bad-row" : ""}>
                                <td class="n">
                                    <a href={`#/run/${summary.id}/problem/${row.index}`}>{row.index}</a>
                                </td>
                                <td class="question">
                                    <a href={`#/run/${summary.id}/problem/${row.index}`}>{row.question.length > 110 ? row.question.slice(0, 109) + "…" : row.question}</a>
                                </td>
                                <td>{goldText(row.gold)}</td>
                                <td>{row.error !== null ? <span class="bad" title={row.error}>failed</span> : (row.selected_answer ?? "(none)")}</td>
                                <td>{verdict(row.correct)}</td>
                                <td class="votes">
                                    {row.votes.slice(0, 3).map((vote, i) => (
                                        <span key={i} class={vote.correct === true ? "vote ok" : "vote"}>
                                            {vote.answer}×{vote.votes}
                                        </span>
                                    ))}
                                    {row.votes.length > 3 ? <span class="note"> +{row.votes.length - 3}</span> : null}
                                </td>
                                <td class="n">{num(row.selected_value, 3)}</td>
                                <td class="n">{row.trajectories}</td>
                                <td class="n">{row.tokens.toLocaleString("en-US")}</td>
                                <td class="n">{num(row.seconds, 2)}</td>
                                {otherId !== "" ? <td>{verdict(otherCorrect.get(row.index) ?? null)}</td> : null}
                            </tr>
                        ))}
                    </tbody>
                </table>
                {rows.length > limit ? (
                    <button type="button" id="more-problems" onClick={() => setLimit(limit + PAGE)}>
                        show {Math.min(PAGE, rows.length - limit)} more of {rows.length - limit}
                    </button>
                ) : null}
            </div>
        </section>
    );
}

/** Problem rows drawn at first (and per "show more"): a 10,000-problem run stays quick to sort and filter. */
const PAGE = 500;

function verdict(correct: boolean | null) {
    if (correct === true) return <span class="ok" aria-label="correct">✓</span>;
    if (correct === false) return <span class="bad" aria-label="wrong">✗</span>;
    return <span class="note" aria-label="not graded">–</span>;
}

function EvolvePage({ summary }: { summary: EvolveRunSummary }) {
    const columns = summary.table === null || summary.table.length === 0 ? [] : Object.keys(summary.table[0] as object);
    const cell = (value: unknown) => (typeof value === "number" ? (value > 0 && value < 1 && !Number.isInteger(value) ? pct(value) : num(value, Number.isInteger(value) ? 0 : 2)) : value === null || value === undefined ? "–" : String(value));
    return (
        <section>
            <h1>
                {summary.path} <span class="kind">evolve</span>
            </h1>
            <p class="counts">
                <span id="problem-count" class="big">
                    {summary.progress.done}
                </span>{" "}
                of {summary.progress.total ?? "?"} rounds reported · updated {ago(summary.progress.updatedAt)}
            </p>
            <h2>Rounds</h2>
            {columns.length === 0 ? (
                <p class="note">No report.json yet (it is written after each round's evaluations).</p>
            ) : (
                <div class="wide">
                    <table id="rounds">
                        <thead>
                            <tr>
                                {columns.map((column) => (
                                    <th key={column}>{column.replace(/_/g, " ")}</th>
                                ))}
                            </tr>
                        </thead>
                        <tbody>
                            {(summary.table ?? []).map((row, i) => (
                                <tr key={i}>
                                    {columns.map((column) => (
                                        <td key={column} class={typeof row[column] === "number" ? "n" : ""}>
                                            {cell(row[column])}
                                        </td>
                                    ))}
                                </tr>
                            ))}
                        </tbody>
                    </table>
                </div>
            )}
            {summary.rounds.map((round) => (
                <div class="round" key={round.round}>
                    <h3>Round {round.round}</h3>
                    {round.runs.length > 0 ? (
                        <p>
                            Runs:{" "}
                            {round.runs.map((run, i) => (
                                <span key={run.id}>
                                    {i > 0 ? ", " : ""}
                                    <a href={`#/run/${run.id}`}>{run.name}</a> <span class="kind">{run.kind}</span>
                                </span>
                            ))}
                        </p>
                    ) : null}
                    {round.stages !== null ? (
                        <table class="stages">
                            <thead>
                                <tr>
                                    <th>stage</th>
                                    <th>status</th>
                                    <th class="n">seconds</th>
                                    <th>note</th>
                                </tr>
                            </thead>
                            <tbody>
                                {Object.entries(round.stages).map(([name, stage]) => (
                                    <tr key={name}>
                                        <td>{name}</td>
                                        <td class={stage.status === "done" ? "ok" : stage.status === "failed" ? "bad" : ""}>{stage.status ?? "–"}</td>
                                        <td class="n">{num(stage.seconds ?? null, 1)}</td>
                                        <td>{stage.note ?? ""}</td>
                                    </tr>
                                ))}
                            </tbody>
                        </table>
                    ) : null}
                </div>
            ))}
        </section>
    );
}

function ProblemPage({ id, index, entry }: { id: string; index: number; entry: RunListEntry | undefined }) {
    const tree = useFetched<ProblemTree>(`api/runs/${id}/problems/${index}`, null);
    const list = useFetched<{ problems: ProblemRow[] }>(`api/runs/${id}/problems`, entry?.progress.done ?? null, 3000);
    const indexes = (list.data?.problems ?? []).map((row) => row.index);
    const at = indexes.indexOf(index);
    const previous = at > 0 ? indexes[at - 1] : undefined;
    const next = at >= 0 && at < indexes.length - 1 ? indexes[at + 1] : undefined;
    const pager = (
        <nav class="pager" aria-label="problems">
            {previous !== undefined ? <a href={`#/run/${id}/problem/${previous}`}>← problem {previous}</a> : <span />}
            <a href={`#/run/${id}`}>all problems</a>
            {next !== undefined ? <a href={`#/run/${id}/problem/${next}`}>problem {next} →</a> : <span />}
        </nav>
    );
    if (tree.error !== null) return (
        <>
            {pager}
            <p class="error">{tree.error}</p>
        </>
    );
    if (tree.data === null) return <p class="note">Loading problem {index}…</p>;
    return (
        <>
            {pager}
            <ProblemExplorer key={`${id}/${index}`} tree={tree.data} runPath={entry?.path ?? ""} />
        </>
    );
}

function initialExpanded(nodes: TreeNode[], chosen: string | null): Set<string> {
    const open = new Set<string>();
    const root = nodes[0];
    if (root !== undefined) open.add(root.tag);
    for (const tag of pathTo(chosen)) open.add(tag);
    if (chosen !== null) open.delete(chosen);
    return open;
}

function ProblemExplorer({ tree, runPath }: { tree: ProblemTree; runPath: string }) {
    const chosen = tree.selected_tag;
    const [expanded, setExpanded] = useState(() => initialExpanded(tree.nodes, chosen));
    const [selected, setSelected] = useState<string>(chosen ?? tree.nodes[0]?.tag ?? "0");
    const [scale, setScale] = useState<ColourScale>("q");
    const [sizeByVisits, setSizeByVisits] = useState(true);
    const [pinned, setPinned] = useState<string | null>(null);
    const byTag = useMemo(() => new Map(tree.nodes.map((node) => [node.tag, node])), [tree.nodes]);
    const chosenPath = useMemo(() => new Set(pathTo(chosen)), [chosen]);
    const node = byTag.get(selected);
    const select = (tag: string) => {
        setSelected(tag);
        // Selecting a hidden node (from the comparison) opens its ancestors.
        setExpanded((old) => {
            const missing = pathTo(tag).slice(0, -1).filter((ancestor) => !old.has(ancestor));
            return missing.length === 0 ? old : new Set([...old, ...missing]);
        });
    };
    const toggle = (tag: string) =>
        setExpanded((old) => {
            const next = new Set(old);
            if (next.has(tag)) next.delete(tag);
            else next.add(tag);
            return next;
        });
    const withChildren = useMemo(() => new Set(tree.nodes.flatMap((n) => (n.parent === null ? [] : [n.parent]))), [tree.nodes]);
    const answers = tree.nodes.filter((n) => n.terminal_reason === "answer");
    return (
        <section class="problem">
            <h1>
                Problem {tree.index} <span class="kind">{runPath}</span>
            </h1>
            <p class="question" id="question">
                {tree.question}
            </p>
            <p class="answers">
                gold <b>{goldText(tree.gold)}</b> · chosen <b id="chosen-answer">{tree.selected_answer ?? "(none)"}</b> {verdict(tree.correct)} · {tree.nodes.length} nodes, {answers.length} answers (
                {answers.filter((n) => n.correct === true).length} correct)
            </p>
            <div class="toolbar">
                <label>
                    colour by{" "}
                    <select id="colour-scale" value={scale} onChange={(event) => setScale((event.currentTarget as HTMLSelectElement).value as ColourScale)}>
                        {COLOUR_SCALES.map((option) => (
                            <option key={option.id} value={option.id}>
                                {option.label}
                            </option>
                        ))}
                    </select>
                </label>
                <span class="legend" aria-hidden="true">
                    <span class="swatch" style={{ background: colourOf(-1) }} />
                    −1
                    <span class="swatch" style={{ background: colourOf(0) }} />0
                    <span class="swatch" style={{ background: colourOf(1) }} />
                    +1
                    <span class="swatch" style={{ background: colourOf(null) }} />
                    none
                </span>
                <label>
                    <input type="checkbox" checked={sizeByVisits} onChange={(event) => setSizeByVisits((event.currentTarget as HTMLInputElement).checked)} /> size by visits
                </label>
                <button type="button" onClick={() => setExpanded(new Set(withChildren))}>
                    expand all
                </button>
                <button type="button" onClick={() => setExpanded(initialExpanded(tree.nodes, chosen))}>
                    collapse
                </button>
                <button type="button" id="pin" disabled={node === undefined} onClick={() => setPinned(pinned === selected ? null : selected)}>
                    {pinned === selected ? "unpin" : "pin for comparison"}
                </button>
                <span class="note">keys: ← → ↑ ↓, Enter opens/closes</span>
            </div>
            <div class="explorer">
                <TreeView nodes={tree.nodes} selected={selected} onSelect={select} expanded={expanded} onToggle={toggle} chosenPath={chosenPath} scale={scale} sizeByVisits={sizeByVisits} />
                {node !== undefined ? <NodeDetail node={node} /> : null}
            </div>
            {pinned !== null && pinned !== selected ? <Comparison a={pinned} b={selected} byTag={byTag} onSelect={select} /> : null}
            {pinned === null && chosen !== null ? (
                <details class="chosen-trajectory">
                    <summary>the chosen trajectory ({pathTo(chosen).length - 1} steps)</summary>
                    <Trajectory tag={chosen} byTag={byTag} onSelect={select} />
                </details>
            ) : null}
        </section>
    );
}

function Trajectory({ tag, byTag, onSelect, other }: { tag: string; byTag: Map<string, TreeNode>; onSelect: (tag: string) => void; other?: Set<string> }) {
    const steps = pathTo(tag)
        .slice(1)
        .flatMap((t) => byTag.get(t) ?? []);
    return (
        <ol class="trajectory">
            {steps.map((step) => (
                <li key={step.tag} class={other?.has(step.tag) === true ? "shared" : ""}>
                    <button type="button" class="link" onClick={() => onSelect(step.tag)}>
                        {step.tag}
                    </button>{" "}
                    <span class="q">Q {step.q.toFixed(3)}</span>
                    {step.ppm !== null ? <span class="q"> · PPM {step.ppm.toFixed(3)}</span> : null}
                    <StepBody node={step} />
                </li>
            ))}
        </ol>
    );
}

function Comparison({ a, b, byTag, onSelect }: { a: string; b: string; byTag: Map<string, TreeNode>; onSelect: (tag: string) => void }) {
    const pa = new Set(pathTo(a));
    const pb = new Set(pathTo(b));
    return (
        <section class="comparison" id="comparison">
            <h2>Two trajectories side by side</h2>
            <p class="note">Steps both share are dimmed.</p>
            <div class="columns">
                <div>
                    <h3>pinned: {a}</h3>
                    <Trajectory tag={a} byTag={byTag} onSelect={onSelect} other={pb} />
                </div>
                <div>
                    <h3>selected: {b}</h3>
                    <Trajectory tag={b} byTag={byTag} onSelect={onSelect} other={pa} />
                </div>
            </div>
        </section>
    );
}
