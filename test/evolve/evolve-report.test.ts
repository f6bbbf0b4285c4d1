import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildRoundReport, writeEvolveReport } from "../../src/evolve/report.js";
import { STATE_FORMAT, type RoundState, type StageState } from "../../src/evolve/state.js";
import { runRstar } from "../support/cli.js";
import { startSimulatedPolicyServer, type SimulatedPolicyServer } from "../support/simulated-policy.js";

/**
 * `rstar report DIR` on an evolve directory. The fixture has the layout `rstar evolve` writes (docs/evolve.md
 * "Directory"): real `rstar eval` runs under round-N/eval/<split>-<method>/, round reports made by the evolve code
 * itself from state files and data files, DIR/report.json, and a third round still running (no report yet).
 */

let server: SimulatedPolicyServer;
const root = mkdtempSync(join(tmpdir(), "rstar-evolve-report-"));
const dir = join(root, "evolve");
const stepwise = ["--stop", "<end_of_step>", "<end_of_code>", "<end_of_answer>", "--max-tokens", "256"];
const QUESTIONS = ["Compute 6 * 7 - 2.", "Compute 3 + 4 * 5.", "What is (2 + 3) * 4?", "Compute 9 - 4 + 8.", "Compute 12 * 3 - 7."];
const GOLDS = ["40", "23", "20", "13", "29"];

interface EvalJson {
    accuracy: number;
    ci95: { low: number; high: number };
    problems: number;
}

/** Per round: problems searched and solved, SFT records, pairs, held-out PPM figures, stage seconds. */
const ROUNDS = [
    { n: 1, searched: 4, solved: 3, sft: 6, pairs: 9, heldout: { pairs: 8, correct: 5, wilson95: [0.306, 0.863] }, final: { pairs: 4, correct: 3, wilson95: [0.301, 0.954] }, evals: [["test", "greedy"], ["test", "maj@4"]] },
    { n: 2, searched: 5, solved: 2, sft: 4, pairs: 7, heldout: { pairs: 10, correct: 8, wilson95: [0.49, 0.943] }, final: { pairs: 5, correct: 5, wilson95: [0.566, 1] }, evals: [["test", "greedy"], ["test", "maj@4"], ["ood", "greedy"]] },
] as const;
const SECONDS: Record<string, number> = { sample: 0.25, search: 41.5, "extract-sft": 3.25, "extract-ppm": 4.5, "train-sft": 120.75, "train-ppm": 88.5, report: 0.125 };

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const evalDir = (n: number, split: string, method: string) => join(dir, `round-${n}`, "eval", `${split}-${method.replace("@", "-at-")}`);
const readEval = (path: string) => JSON.parse(readFileSync(join(path, "eval.json"), "utf8")) as EvalJson;
const lines = (count: number, make: (i: number) => unknown) => Array.from({ length: count }, (_, i) => JSON.stringify(make(i))).join("\n") + "\n";

function stageState(status: StageState["status"], seconds: number): StageState {
    return { status, command: null, startedAt: null, finishedAt: null, seconds, attempts: 1, pid: null, note: null };
}

async function evaluate(n: number, split: string, method: string): Promise<void> {
    const run = await runRstar(["eval", "--dataset", join(dir, "data", `${split}.jsonl`), "--method", method, "--policy-url", server.baseURL, "--model", server.model, ...stepwise, "--out", evalDir(n, split, method), "--quiet"]);
    expect(run.code, run.stderr).toBe(0);
}

function heldoutJson(h: { pairs: number; correct: number; wilson95: readonly number[] }) {
    return { pairs: h.pairs, problems: h.pairs, correct: h.correct, accuracy: h.correct / h.pairs, wilson95: h.wilson95, bootstrap95: h.wilson95 };
}

beforeAll(async () => {
    server = await startSimulatedPolicyServer({ stepCorrectProbability: 0.6, codeErrorProbability: 0.05 });
    mkdirSync(join(dir, "data"), { recursive: true });
    writeFileSync(join(dir, "config.json"), JSON.stringify({ seed: 0, rounds: [{}, {}, {}, {}] }));
    writeFileSync(join(dir, "data", "test.jsonl"), lines(QUESTIONS.length, (i) => ({ question: QUESTIONS[i], answer: GOLDS[i] })));
    writeFileSync(join(dir, "data", "ood.jsonl"), lines(3, (i) => ({ question: QUESTIONS[i], answer: GOLDS[i] })));
    for (const round of ROUNDS) {
        const rd = join(dir, `round-${round.n}`);
        mkdirSync(join(rd, "search"), { recursive: true });
        mkdirSync(join(rd, "ppm"), { recursive: true });
        writeFileSync(join(rd, "problems.jsonl"), lines(round.searched, (i) => ({ question: `q${round.n}-${i}` })));
        writeFileSync(join(rd, "search", "results.jsonl"), lines(round.searched, (i) => ({ question: `q${round.n}-${i}`, pass_any: i < round.solved })));
        writeFileSync(join(rd, "sft.jsonl"), lines(round.sft, (i) => ({ query: `q${i}`, response: "r" })));
        writeFileSync(join(rd, "pairs.jsonl"), lines(round.pairs, (i) => ({ prompt: `q${i}`, pos: "a", neg: "b" })));
        writeFileSync(join(rd, "ppm", "metrics.json"), JSON.stringify({ heldout: { ...heldoutJson(round.heldout), by_kind: { code_vs_code: heldoutJson({ pairs: 4, correct: 2, wilson95: [0.15, 0.85] }), final_answer: heldoutJson(round.final) } } }));
        for (const [split, method] of round.evals) await evaluate(round.n, split, method);
        const order = ["sample", "search", "extract-sft", "extract-ppm", "train-sft", "train-ppm", ...round.evals.map(([split, method]) => `eval-${split}-${method}`), "report"];
        const state: RoundState = {
            format: STATE_FORMAT,
            round: round.n,
            order,
            stages: Object.fromEntries(order.map((name) => [name, stageState("done", SECONDS[name] ?? 10 * round.n)])),
            artifacts: { policy: `round-${round.n}/policy`, ppm: `round-${round.n}/ppm` },
        };
        writeFileSync(join(rd, "state.json"), JSON.stringify(state));
        writeFileSync(join(rd, "report.json"), JSON.stringify(buildRoundReport(dir, round.n, state, [join(rd, "search")])));
    }
    writeEvolveReport(dir, 4);
    // Round 1's own report is gone: the report reads it from DIR/report.json.
    rmSync(join(dir, "round-1", "report.json"));
    // Round 3 is running: search and extraction done, SFT training in progress; one evaluation directory without
    // eval.json (an evaluation that never finished) must not become a run.
    const rd3 = join(dir, "round-3");
    mkdirSync(join(rd3, "search"), { recursive: true });
    writeFileSync(join(rd3, "problems.jsonl"), lines(5, (i) => ({ question: `q3-${i}` })));
    writeFileSync(join(rd3, "search", "results.jsonl"), lines(5, (i) => ({ question: `q3-${i}`, pass_any: i < 1 })));
    writeFileSync(join(rd3, "sft.jsonl"), lines(2, (i) => ({ query: `q${i}`, response: "r" })));
    mkdirSync(join(rd3, "eval", "test-mcts"), { recursive: true });
    const order3 = ["sample", "search", "extract-sft", "extract-ppm", "train-sft", "train-ppm", "eval-test-greedy", "report"];
    const state3: RoundState = {
        format: STATE_FORMAT,
        round: 3,
        order: order3,
        stages: { sample: stageState("done", 0.5), search: stageState("done", 30), "extract-sft": stageState("done", 2), "extract-ppm": stageState("done", 2), "train-sft": stageState("running", 17.5), "train-ppm": stageState("pending", 0), "eval-test-greedy": stageState("pending", 0), report: stageState("pending", 0) },
        artifacts: { policy: null, ppm: null },
    };
    writeFileSync(join(rd3, "state.json"), JSON.stringify(state3));
}, 180_000);
afterAll(async () => server?.close());

/** The cells of the rounds table's row for round n (tags stripped). */
function roundRow(html: string, n: number): string[] {
    const table = /<table id="rounds"[^>]*>([\s\S]*?)<\/table>/.exec(html)?.[1] ?? "";
    const row = new RegExp(`<tr data-round="${n}">([\\s\\S]*?)</tr>`).exec(table)?.[1];
    if (row === undefined) return [];
    return [...row.matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((m) => (m[1] ?? "").replace(/<[^>]+>/g, "").replace(/\s+/g, " ").trim());
}

function headers(html: string): string[] {
    const table = /<table id="rounds"[^>]*>([\s\S]*?)<\/table>/.exec(html)?.[1] ?? "";
    return [...table.matchAll(/<th>([\s\S]*?)<\/th>/g)].map((m) => m[1] ?? "");
}

describe("rstar report on an evolve directory", () => {
    it("one table across rounds with every figure of the round reports, charts of accuracy by round and time per stage, and each round's eval runs", async () => {
        const out = join(root, "evolve.html");
        const made = await runRstar(["report", dir, "--out", out, "--title", "Evolve"]);
        expect(made.code, made.stderr).toBe(0);
        const html = readFileSync(out, "utf8");

        expect(headers(html)).toEqual(["round", "problems", "coverage", "SFT records", "PPM pairs", "PPM held-out", "PPM held-out (final answers)", "test · greedy", "test · maj@4", "ood · greedy", "seconds"]);
        const evalCell = (n: number, split: string, method: string) => {
            const e = readEval(evalDir(n, split, method));
            return `${pct(e.accuracy)} [${pct(e.ci95.low)}, ${pct(e.ci95.high)}] n=${e.problems}`;
        };
        for (const round of ROUNDS) {
            const stageSeconds = ["sample", "search", "extract-sft", "extract-ppm", "train-sft", "train-ppm", "report"].reduce((sum, name) => sum + (SECONDS[name] as number), 0) + round.evals.length * 10 * round.n;
            const heldout = (h: { pairs: number; correct: number; wilson95: readonly number[] }) => `${pct(h.correct / h.pairs)} [${pct(h.wilson95[0] as number)}, ${pct(h.wilson95[1] as number)}] ${h.pairs} pairs`;
            expect(roundRow(html, round.n)).toEqual([
                String(round.n),
                String(round.searched),
                pct(round.solved / round.searched),
                String(round.sft),
                String(round.pairs),
                heldout(round.heldout),
                heldout(round.final),
                evalCell(round.n, "test", "greedy"),
                evalCell(round.n, "test", "maj@4"),
                round.n === 2 ? evalCell(2, "ood", "greedy") : "-",
                stageSeconds.toFixed(1),
            ]);
        }
        // The running round: its finished stages' data, no evaluations, time so far.
        expect(roundRow(html, 3)).toEqual(["3 (in progress: train-sft running)", "5", pct(1 / 5), "2", "0", "-", "-", "-", "-", "-", (0.5 + 30 + 2 + 2 + 17.5).toFixed(1)]);
        expect(html).toContain("2 of 4 planned rounds finished.");

        // Accuracy by round: an SVG with lines per method and interval rules; time per stage: stacked bars.
        const accuracy = /<div class="chart" id="chart-rounds-accuracy">([\s\S]*?)<\/div>/.exec(html)?.[1] ?? "";
        expect(accuracy).toMatch(/^<svg/);
        expect(accuracy).toContain("mark-line");
        expect(accuracy).toContain("mark-rule");
        for (const label of ["test", "ood", "greedy", "maj@4", "Accuracy by round (bars: 95% intervals)"]) expect(accuracy).toContain(`>${label}<`);
        // One point per round × split × method evaluated (5), each with its interval rule.
        const points = [...accuracy.matchAll(/aria-label="round: (\d+); accuracy: [^;]*; method: ([^;]*); split: (\w+);[^"]*" role="graphics-symbol" aria-roledescription="point"/g)].map((m) => `${m[1]} ${m[3]} ${m[2]}`);
        expect(points.sort()).toEqual(["1 test greedy", "1 test maj@4", "2 ood greedy", "2 test greedy", "2 test maj@4"]);
        expect([...accuracy.matchAll(/aria-roledescription="rule mark"/g)]).toHaveLength(5);
        const time = /<div class="chart" id="chart-rounds-time">([\s\S]*?)<\/div>/.exec(html)?.[1] ?? "";
        expect(time).toMatch(/^<svg/);
        expect(time).toContain("mark-rect");
        expect(time).toContain(">train-sft<");
        const stages = /<table id="rounds-stages"[^>]*>([\s\S]*?)<\/table>/.exec(html)?.[1] ?? "";
        expect([...stages.matchAll(/<tr><td>([^<]*)<\/td>/g)].map((m) => m[1])).toEqual(["sample", "search", "extract-sft", "extract-ppm", "train-sft", "train-ppm", "eval-test-greedy", "eval-test-maj@4", "eval-ood-greedy", "report"]);
        expect(stages).toContain("<tr><td>train-sft</td><td class=\"n\">120.8</td><td class=\"n\">120.8</td><td class=\"n\">17.5 <span class=\"ci\">running</span></td></tr>");

        // The rounds' evaluations are runs of the report, named by round, split and method, with the usual sections.
        const names = ["round 1 · test · greedy", "round 1 · test · maj@4", "round 2 · test · greedy", "round 2 · test · maj@4", "round 2 · ood · greedy"];
        for (const name of names) {
            expect(html).toContain(`<h3>${name}</h3><table class="problems" data-run="${name}">`);
        }
        expect(html).not.toContain("round 3 · ");
        const metrics = /<table id="metrics">([\s\S]*?)<\/table>/.exec(html)?.[1] ?? "";
        expect([...metrics.matchAll(/<tr><td>([^<]*)<\/td>/g)].map((m) => m[1])).toEqual(names);
        const maj = readEval(evalDir(2, "test", "maj@4"));
        expect(metrics).toContain(`<tr><td>round 2 · test · maj@4</td><td class="n">${maj.problems}</td><td class="n">${pct(maj.accuracy)} `);
        expect(html).toContain('<div class="chart" id="chart-metrics"><svg');
        expect(html).toContain('<div class="chart" id="chart-scaling"><svg');

        // Paired differences from the per-problem records: methods within a round and split, last round against the first.
        const correct = (n: number, split: string, method: string) => readFileSync(join(evalDir(n, split, method), "problems.jsonl"), "utf8").trim().split("\n").map((line) => (JSON.parse(line) as { correct: boolean }).correct);
        const paired = /<table id="rounds-paired">([\s\S]*?)<\/table>/.exec(html)?.[1] ?? "";
        const pairedRows = [...paired.matchAll(/<tr><td>([^<]*)<\/td><td class="n">(\d+)<\/td><td class="n">([^<]*)<\/td>/g)].map((m) => [m[1], m[2], m[3]]);
        const diff = (a: boolean[], b: boolean[]) => {
            const d = (100 * a.reduce((sum, x, i) => sum + Number(x) - Number(b[i]), 0)) / a.length;
            return `${d >= 0 ? "+" : ""}${d.toFixed(1)} pts`;
        };
        expect(pairedRows).toEqual([
            ["round 1 · test: maj@4 − greedy", "5", diff(correct(1, "test", "maj@4"), correct(1, "test", "greedy"))],
            ["round 2 · test: maj@4 − greedy", "5", diff(correct(2, "test", "maj@4"), correct(2, "test", "greedy"))],
            ["test · greedy: round 2 − round 1", "5", diff(correct(2, "test", "greedy"), correct(1, "test", "greedy"))],
            ["test · maj@4: round 2 − round 1", "5", diff(correct(2, "test", "maj@4"), correct(1, "test", "maj@4"))],
        ]);
    }, 120_000);

    it("two evolve directories side by side keep their runs and sections apart", async () => {
        const copy = join(root, "evolve-copy");
        cpSync(dir, copy, { recursive: true });
        const out = join(root, "two.html");
        const made = await runRstar(["report", dir, copy, "--out", out]);
        expect(made.code, made.stderr).toBe(0);
        const html = readFileSync(out, "utf8");
        expect(html).toContain('<table id="rounds" class="rounds">');
        expect(html).toContain('<table id="rounds-2" class="rounds">');
        expect(html).toContain('<div class="chart" id="chart-rounds-accuracy-2"><svg');
        for (const name of ["evolve · round 1 · test · greedy", "evolve-copy · round 2 · ood · greedy"]) expect(html).toContain(`<h3>${name}</h3>`);
        const metrics = /<table id="metrics">([\s\S]*?)<\/table>/.exec(html)?.[1] ?? "";
        expect([...metrics.matchAll(/<tr><td>/g)]).toHaveLength(10);
    }, 60_000);

    it("an evolve directory whose first round is still searching renders its rounds table alone", async () => {
        const early = join(root, "early");
        mkdirSync(join(early, "round-1", "search"), { recursive: true });
        writeFileSync(join(early, "config.json"), JSON.stringify({ rounds: [{}, {}] }));
        writeFileSync(join(early, "round-1", "problems.jsonl"), lines(7, (i) => ({ question: `q${i}` })));
        writeFileSync(join(early, "round-1", "search", "results.jsonl"), lines(3, (i) => ({ question: `q${i}`, pass_any: i === 0 })));
        const state: RoundState = { format: STATE_FORMAT, round: 1, order: ["sample", "search", "report"], stages: { sample: stageState("done", 1), search: stageState("running", 4), report: stageState("pending", 0) }, artifacts: { policy: null, ppm: null } };
        writeFileSync(join(early, "round-1", "state.json"), JSON.stringify(state));
        const out = join(root, "early.html");
        const made = await runRstar(["report", early, "--out", out]);
        expect(made.code, made.stderr).toBe(0);
        const html = readFileSync(out, "utf8");
        expect(roundRow(html, 1)).toEqual(["1 (in progress: search running)", "7", pct(1 / 3), "0", "0", "-", "-", "5.0"]);
        expect(html).toContain("0 of 2 planned rounds finished.");
        expect(html).toContain("No finished evaluation runs yet.");
        expect(html).not.toContain("chart-rounds-accuracy");
        expect(html).toContain('<div class="chart" id="chart-rounds-time"><svg');
    }, 60_000);

    it("a directory that is neither a run nor an evolve directory, or a malformed round report: exit 2 naming the path", async () => {
        const empty = join(root, "empty");
        mkdirSync(empty, { recursive: true });
        const neither = await runRstar(["report", empty, "--out", join(root, "x.html")]);
        expect(neither.code).toBe(2);
        expect(neither.stderr).toContain(empty);
        expect(neither.stderr).toContain("evolve directory");

        const bad = join(root, "bad");
        mkdirSync(join(bad, "round-1"), { recursive: true });
        writeFileSync(join(bad, "config.json"), JSON.stringify({ rounds: [{}] }));
        writeFileSync(join(bad, "round-1", "report.json"), JSON.stringify({ format: "rstar-evolve-round/1", round: 1, problems: "many" }));
        const malformed = await runRstar(["report", bad, "--out", join(root, "y.html")]);
        expect(malformed.code).toBe(2);
        expect(malformed.stderr).toContain(join(bad, "round-1", "report.json"));
        expect(malformed.stderr).toContain('field "problems"');
    }, 60_000);
});
