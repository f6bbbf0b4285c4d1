import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, symlinkSync } from "node:fs";
import { get, request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadReportRun, readEval } from "../../src/eval/index.js";
import { createGrader, type Grader } from "../../src/grading/index.js";
import { RunStore } from "../../src/runs/index.js";
import { startUiServer, type ProblemRow, type ProblemTree, type RunListEntry, type UiServer } from "../../src/ui/index.js";
import { runRstar } from "../support/cli.js";
import { startSimulatedPolicyServer, type SimulatedPolicyServer } from "../support/simulated-policy.js";
import { HOSTILE, evolveShell, hostileRun, policyFlags, searchRun, writeDataset } from "./fixtures.js";

let policy: SimulatedPolicyServer;
let grader: Grader;
let ui: UiServer;
const base = mkdtempSync(join(tmpdir(), "rstar-ui-api-"));
const runs = join(base, "runs");
const outside = join(base, "outside");
const dirs = {
    search: join(runs, "search-a"),
    eval: join(runs, "eval-greedy"),
    hostile: join(runs, "hostile"),
    evolve: join(runs, "evolve"),
    sneaky: join(runs, "sneaky"),
    live: join(runs, "live"),
};

interface Answer<T = unknown> {
    status: number;
    headers: Record<string, string | string[] | undefined>;
    body: T;
    text: string;
}

/** A raw GET (the path is sent as written: no URL normalisation), or another method. */
function call<T = Record<string, unknown>>(path: string, options: { method?: string; host?: string } = {}): Promise<Answer<T>> {
    const url = new URL(ui.url);
    return new Promise((resolve, reject) => {
        const req = httpRequest({ host: url.hostname, port: url.port, path, method: options.method ?? "GET", headers: options.host === undefined ? {} : { host: options.host } }, (response) => {
            let text = "";
            response.on("data", (chunk: Buffer) => (text += chunk.toString()));
            response.on("end", () => {
                let body: unknown = null;
                try {
                    body = JSON.parse(text);
                } catch {
                    body = null;
                }
                resolve({ status: response.statusCode ?? 0, headers: response.headers, body: body as T, text });
            });
        });
        req.on("error", reject);
        req.end();
    });
}

const list = async () => (await call<{ runs: RunListEntry[] }>("/api/runs")).body.runs;
const byPath = async (suffix: string) => {
    const found = (await list()).find((run) => run.path.endsWith(suffix));
    if (found === undefined) throw new Error(`no run ${suffix}`);
    return found;
};

beforeAll(async () => {
    policy = await startSimulatedPolicyServer({ stepCorrectProbability: 0.6, codeErrorProbability: 0.1 });
    grader = createGrader();
    mkdirSync(runs, { recursive: true });
    const dataset = writeDataset(join(base, "set.jsonl"), 3);
    await searchRun(policy, dataset, dirs.search);
    await searchRun(policy, dataset, join(dirs.evolve, "round-1", "search"));
    evolveShell(dirs.evolve);
    const evaluated = await runRstar(["eval", "--dataset", dataset, "--method", "greedy", "--stop", "<end_of_step>", "<end_of_code>", "<end_of_answer>", "--max-tokens", "256", ...policyFlags(policy), "--out", dirs.eval]);
    if (evaluated.code !== 0) throw new Error(evaluated.stderr);
    hostileRun(dirs.hostile);
    hostileRun(dirs.live);
    // Outside the root: a run reached only through a link, and a store another run links to.
    hostileRun(join(outside, "secret-run"));
    symlinkSync(join(outside, "secret-run"), join(runs, "link-out"));
    symlinkSync(dirs.search, join(runs, "link-in"));
    mkdirSync(dirs.sneaky);
    copyFileSync(join(dirs.hostile, "config.json"), join(dirs.sneaky, "config.json"));
    symlinkSync(join(outside, "secret-run", "store.sqlite"), join(dirs.sneaky, "store.sqlite"));
    before = snapshot(dirs.search);
    ui = await startUiServer({ dirs: [runs], judge: grader, pollMs: 100, scanMs: 300 });
}, 180_000);

let before: Map<string, string>;

/** Each file of a run directory with the SHA-256 of its bytes. */
function snapshot(dir: string): Map<string, string> {
    return new Map(readdirSync(dir).map((name) => [name, createHash("sha256").update(readFileSync(join(dir, name))).digest("hex")]));
}

afterAll(async () => {
    await ui?.close();
    await grader?.dispose();
    await policy?.close();
});

describe("rstar ui API", () => {
    it("GET /api/runs lists the search, eval and evolve runs under the roots with their progress, nothing behind a link out", async () => {
        const answer = await call<{ roots: string[]; runs: RunListEntry[] }>("/api/runs");
        expect(answer.status).toBe(200);
        expect(answer.headers["content-type"]).toMatch(/application\/json/);
        const paths = answer.body.runs.map((run) => `${run.path} ${run.kind}`).sort();
        expect(paths).toEqual(["runs/eval-greedy eval", "runs/evolve evolve", "runs/evolve/round-1/search search", "runs/hostile search", "runs/live search", "runs/search-a search", "runs/sneaky search"]);
        const search = answer.body.runs.find((run) => run.path === "runs/search-a") as RunListEntry;
        expect(search.progress).toMatchObject({ done: 3, total: 3, failed: 0, finished: true });
        expect(search.id).toMatch(/^[0-9a-f]{12}$/);
        const round = answer.body.runs.find((run) => run.path === "runs/evolve/round-1/search") as RunListEntry;
        const evolve = answer.body.runs.find((run) => run.kind === "evolve") as RunListEntry;
        expect(round.parent).toBe(evolve.id);
        expect(evolve.progress).toMatchObject({ done: 1, total: 1, finished: true });
        // The run outside the root is never listed (the link to it is refused); the link inside is the same run once.
        expect(JSON.stringify(answer.body)).not.toContain("secret-run");
        expect(answer.body.runs.filter((run) => run.path.includes("link-"))).toEqual([]);
    });

    it("GET /api/runs/:id gives the settings and the same metrics as rstar report (search run) and rstar eval (eval.json)", async () => {
        const search = await byPath("runs/search-a");
        const answer = await call<{ config: { settings: { algorithm: string; rollouts: number } }; metrics: Record<string, unknown>; metrics_source: string; progress: unknown }>(`/api/runs/${search.id}`);
        expect(answer.status).toBe(200);
        expect(answer.body.config.settings).toMatchObject({ algorithm: "mcts", rollouts: 4 });
        expect(answer.body.metrics_source).toBe("store");
        const report = await loadReportRun(dirs.search, grader);
        for (const key of ["problems", "accuracy", "ci95", "top_value", "majority", "weighted", "pass_at_k", "tokens_per_problem", "requests_per_problem", "trajectories_per_problem", "scaling"]) {
            expect(answer.body.metrics[key], key).toEqual(JSON.parse(JSON.stringify(report.summary[key as keyof typeof report.summary])));
        }
        const evalRun = await byPath("runs/eval-greedy");
        const evaluated = await call<{ metrics: unknown; metrics_source: string }>(`/api/runs/${evalRun.id}`);
        expect(evaluated.body.metrics_source).toBe("eval.json");
        expect(evaluated.body.metrics).toEqual(readEval(dirs.eval).summary);
    });

    it("GET /api/runs/:id/problems lists every finished problem, graded as rstar report grades it", async () => {
        const search = await byPath("runs/search-a");
        const answer = await call<{ problems: ProblemRow[] }>(`/api/runs/${search.id}/problems`);
        expect(answer.status).toBe(200);
        expect(answer.body.problems.map((row) => row.index)).toEqual([0, 1, 2]);
        const report = await loadReportRun(dirs.search, grader);
        for (const row of answer.body.problems) {
            const record = report.records.find((r) => r.index === row.index);
            expect(row).toMatchObject({ correct: record?.correct, pass_any: record?.pass_at_k, selected_answer: record?.selected_answer, gold: record?.gold, trajectories: record?.terminals.length });
            expect(row.rollouts).toBeGreaterThan(0);
            expect(row.tokens).toBeGreaterThan(0);
        }
        // An eval run's problems come graded from problems.jsonl, with the gold answers the search never saw.
        const evalRun = await byPath("runs/eval-greedy");
        const evaluated = await call<{ problems: ProblemRow[] }>(`/api/runs/${evalRun.id}/problems`);
        expect(evaluated.body.problems.map((row) => [row.index, row.gold, row.correct])).toEqual(readEval(dirs.eval).records.map((record) => [record.index, record.gold, record.correct]));
    });

    it("GET /api/runs/:id/problems/:index gives the tree with code, observation, Q, visits and the chosen path", async () => {
        const search = await byPath("runs/search-a");
        const answer = await call<ProblemTree>(`/api/runs/${search.id}/problems/1`);
        expect(answer.status).toBe(200);
        const tree = answer.body;
        expect(tree.question).toBe("Compute 3 + 4 * 5.");
        expect(tree.nodes[0]).toMatchObject({ tag: "0", parent: null, depth: 0 });
        const trees = readFileSync(join(dirs.search, "trees.jsonl"), "utf8").trim().split("\n").map((line) => JSON.parse(line) as { question: string; rstar: Record<string, { q_value: number; visit_count: number }> });
        const official = trees.find((t) => t.question === tree.question)?.rstar ?? {};
        expect(tree.nodes.map((node) => node.tag).sort()).toEqual(Object.keys(official).sort());
        for (const node of tree.nodes) {
            expect(node.q).toBe(official[node.tag]?.q_value);
            expect(node.visits).toBe(official[node.tag]?.visit_count);
            if (node.parent !== null) expect(node.tag.startsWith(node.parent + ".")).toBe(true);
        }
        const code = tree.nodes.find((node) => node.code !== null);
        expect(code?.code).toContain("<code>");
        expect(typeof code?.observation).toBe("string");
        if (tree.selected_answer !== null) {
            const chosen = tree.nodes.find((node) => node.tag === tree.selected_tag);
            expect(chosen?.final_answer).toBe(tree.selected_answer);
        }
        // Model text is data: it comes back verbatim in JSON (the page escapes it; see the browser test).
        const hostile = await byPath("runs/hostile");
        const planted = await call<ProblemTree>(`/api/runs/${hostile.id}/problems/0`);
        expect(planted.headers["content-type"]).toMatch(/application\/json/);
        expect(planted.body.nodes.find((node) => node.tag === "0.1")?.observation).toBe(HOSTILE);
        expect(planted.body.selected_tag).toBe("0.1.1");
        expect(planted.body.nodes.find((node) => node.tag === "0.1")?.ppm).toBe(0.25);
    });

    it("an evolve run gives its rounds' table, stages and links to the round's runs", async () => {
        const evolve = await byPath("runs/evolve");
        const round = await byPath("runs/evolve/round-1/search");
        const answer = await call<{ kind: string; table: Record<string, unknown>[]; rounds: { round: number; stages: Record<string, { status: string }>; runs: { id: string; name: string }[] }[] }>(`/api/runs/${evolve.id}`);
        expect(answer.status).toBe(200);
        expect(answer.body.kind).toBe("evolve");
        expect(answer.body.table[0]).toMatchObject({ round: 1, coverage: 0.6667 });
        expect(answer.body.rounds).toHaveLength(1);
        expect(answer.body.rounds[0]?.stages["search"]?.status).toBe("done");
        expect(answer.body.rounds[0]?.runs).toEqual([expect.objectContaining({ id: round.id, name: "search" })]);
        expect((await call(`/api/runs/${evolve.id}/problems`)).status).toBe(400);
    });

    it("refuses bad run ids, bad problem indexes, traversal attempts and links out of the roots", async () => {
        const search = await byPath("runs/search-a");
        for (const path of ["/api/runs/nothex", "/api/runs/000000000000", `/api/runs/${search.id}0`, "/api/runs/..%2F..%2Fetc%2Fpasswd", "/api/runs/../../etc/passwd", "/api/runs/%2e%2e/problems"]) {
            const answer = await call(path);
            expect(answer.status, path).toBe(404);
            expect(answer.text, path).not.toMatch(/root:|rstar-run/);
        }
        expect((await call<{ error: { code: string } }>("/api/runs/000000000000")).body.error.code).toBe("NO_SUCH_RUN");
        expect((await call(`/api/runs/${search.id}/problems/abc`)).status).toBe(400);
        expect((await call(`/api/runs/${search.id}/problems/-1`)).status).toBe(400);
        expect((await call(`/api/runs/${search.id}/problems/1e3`)).status).toBe(400);
        expect((await call<{ error: { code: string } }>(`/api/runs/${search.id}/problems/99`)).body.error.code).toBe("NO_SUCH_PROBLEM");
        for (const path of ["/assets/..%2F..%2F..%2Fpackage.json", "/assets/../../package.json", "/..%2Fpackage.json", "/%2e%2e/%2e%2e/package.json", "/package.json", "/config.json", "/store.sqlite"]) {
            const answer = await call(path);
            expect(answer.status, path).toBe(404);
            expect(answer.text, path).not.toContain('"rstar-math"');
        }
        // The run behind a link out of the root is unknown by its real id too.
        const { runId } = await import("../../src/ui/catalog.js");
        const { realpathSync } = await import("node:fs");
        expect((await call(`/api/runs/${runId(realpathSync(join(outside, "secret-run")))}`)).status).toBe(404);
        // A run whose store links out of the root is listed, but its store is not read.
        const sneaky = await byPath("runs/sneaky");
        expect(sneaky.progress.done).toBe(0);
        expect((await call<{ problems: unknown[] }>(`/api/runs/${sneaky.id}/problems`)).body.problems).toEqual([]);
        expect((await call(`/api/runs/${sneaky.id}/problems/0`)).status).toBe(404);
    });

    it("is read-only and local: other methods 405, a foreign Host 403, and a strict content security policy", async () => {
        const search = await byPath("runs/search-a");
        for (const method of ["POST", "PUT", "DELETE", "PATCH"]) expect((await call(`/api/runs/${search.id}`, { method })).status, method).toBe(405);
        expect((await call("/api/runs", { host: "evil.example:80" })).status).toBe(403);
        expect((await call("/api/runs", { host: "localhost" })).status).toBe(200);
        const page = await call("/");
        expect(page.status).toBe(200);
        expect(page.headers["content-security-policy"]).toContain("script-src 'self'");
        expect(page.headers["x-content-type-options"]).toBe("nosniff");
    });

    it("never writes to a run: after every endpoint the run's files are byte for byte the same", async () => {
        const search = await byPath("runs/search-a");
        for (const path of ["/api/runs", `/api/runs/${search.id}`, `/api/runs/${search.id}/problems`, `/api/runs/${search.id}/problems/0`]) expect((await call(path)).status).toBe(200);
        const after = snapshot(dirs.search);
        for (const [name, hash] of before) expect(after.get(name), name).toBe(hash);
        // A SQLite reader may leave the empty side files of WAL mode behind (any reader does), nothing else.
        const added = [...after.keys()].filter((name) => !before.has(name));
        expect(added.every((name) => name === "store.sqlite-wal" || name === "store.sqlite-shm"), added.join()).toBe(true);
        if (added.includes("store.sqlite-wal")) expect(statSync(join(dirs.search, "store.sqlite-wal")).size).toBe(0);
    });

    it("serves the built page and its assets, nothing else", async () => {
        const page = await call("/");
        expect(page.headers["content-type"]).toMatch(/text\/html/);
        const assets = [...page.text.matchAll(/(?:src|href)="\.\/(assets\/[\w.-]+)"/g)].map((match) => match[1]);
        expect(assets.length).toBeGreaterThanOrEqual(2);
        for (const asset of assets) {
            const answer = await call(`/${asset}`);
            expect(answer.status, asset).toBe(200);
            expect(answer.headers["content-type"]).toMatch(/javascript|css/);
        }
        expect(page.text).not.toMatch(/https?:\/\//);
        expect((await call("/assets/missing.js")).status).toBe(404);
    });

    it("GET /api/events streams the run list and pushes the new count when a problem is recorded, and only then", async () => {
        const live = await byPath("runs/live");
        const events: { event: string; data: string }[] = [];
        const url = new URL(ui.url);
        const stream = await new Promise<import("node:http").IncomingMessage>((resolve) => get({ host: url.hostname, port: url.port, path: "/api/events" }, resolve));
        expect(stream.headers["content-type"]).toMatch(/text\/event-stream/);
        let buffer = "";
        stream.on("data", (chunk: Buffer) => {
            buffer += chunk.toString();
            let end;
            while ((end = buffer.indexOf("\n\n")) >= 0) {
                const block = buffer.slice(0, end);
                buffer = buffer.slice(end + 2);
                const event = /^event: (.*)$/m.exec(block)?.[1];
                const data = /^data: (.*)$/m.exec(block)?.[1];
                if (event !== undefined && data !== undefined) events.push({ event, data });
            }
        });
        const liveCount = (index: number) => (JSON.parse((events[index] as { data: string }).data) as { runs: RunListEntry[] }).runs.find((run) => run.id === live.id)?.progress.done;
        await until(() => events.length >= 1);
        expect(events[0]?.event).toBe("runs");
        expect(liveCount(0)).toBe(1);
        // Nothing changes: nothing is sent (the poller runs every 100 ms here).
        await new Promise((resolve) => setTimeout(resolve, 600));
        expect(events).toHaveLength(1);
        const store = new RunStore(join(dirs.live, "store.sqlite"));
        store.add(1, { index: 1, question: "another", answer: "1", selected_answer: "1", selected_value: 1, correct: true, selection_saw_gold: false, pass_any: true, terminal_answers: [{ answer: "1", value: 1, correct: true, tag: "0.1" }], error: null }, { question: "another", rstar: null });
        store.close();
        await until(() => events.length >= 2);
        expect(events[1]?.event).toBe("runs");
        expect(liveCount(1)).toBe(2);
        stream.destroy();
    });
});

async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
    const started = Date.now();
    while (!check()) {
        if (Date.now() - started > timeoutMs) throw new Error("timed out waiting");
        await new Promise((resolve) => setTimeout(resolve, 50));
    }
}
