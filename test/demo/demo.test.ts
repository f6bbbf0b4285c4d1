import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { formatRounds, roundsTable } from "../../src/cli/commands/demo.js";
import { runRstar as rstar } from "../support/cli.js";


interface Row {
    split: string;
    method: string;
    evalMethod: string;
    accuracy: number;
    ci95: { low: number; high: number };
    passAtK: number;
    problems: number;
    dir: string;
}
const selections = (dir: string) =>
    readFileSync(join(dir, "problems.jsonl"), "utf8")
        .trim()
        .split("\n")
        .map((line) => {
            const record = JSON.parse(line) as { index: number; selected_answer: string | null; correct: boolean; terminals: { answer: string; value: number }[] };
            return { index: record.index, selected: record.selected_answer, correct: record.correct, terminals: record.terminals.map((t) => [t.answer, t.value.toFixed(6)]) };
        });

/** The README's first command, on a small problem count: the shipped models, offline, end to end. */
describe("rstar demo", () => {
    it("is a preset over rstar eval: each row equals the same `rstar eval` run, problem by problem", async () => {
        const root = mkdtempSync(join(tmpdir(), "rstar-demo-"));
        const out = join(root, "demo");
        const demo = await rstar(["demo", "--problems", "3", "--rollouts", "2", "--candidates", "2", "--samples", "2", "--threads", "1", "--out", out, "--json"]);
        expect(demo.code, demo.stderr).toBe(0);
        const result = JSON.parse(demo.stdout) as { out: string; rows: Row[]; rounds?: Record<string, unknown>[] };
        // The shipped models' rounds table (models/manifest.json, written by rstar evolve --export-models) comes along.
        const manifest = JSON.parse(readFileSync("models/manifest.json", "utf8")) as { builtBy: string; table: Record<string, unknown>[] };
        expect(result.rounds).toEqual(manifest.table);
        expect(manifest.table.map((row) => row["round"])).toEqual([1, 2, 3, 4]);
        expect(result.rows.map((row) => `${row.split}/${row.method}`)).toEqual([
            "test/teacher greedy",
            "test/greedy",
            "test/maj@2",
            "test/MCTS+PPM",
            "ood/teacher greedy",
            "ood/greedy",
            "ood/maj@2",
            "ood/MCTS+PPM",
        ]);
        for (const row of result.rows) {
            expect(row.problems).toBe(3);
            expect(row.ci95.low).toBeLessThanOrEqual(row.accuracy);
            expect(row.ci95.high).toBeGreaterThanOrEqual(row.accuracy);
            expect(row.passAtK).toBeGreaterThanOrEqual(row.accuracy);
            const evalJson = JSON.parse(readFileSync(join(row.dir, "eval.json"), "utf8")) as { accuracy: number; method: string };
            expect(evalJson).toMatchObject({ accuracy: row.accuracy, method: row.evalMethod });
            expect(readFileSync(join(row.dir, "trees.jsonl"), "utf8").trim().split("\n")).toHaveLength(3);
        }
        // Something was solved: a demo that searched nothing, or graded nothing, would fail here.
        expect(result.rows.reduce((sum, row) => sum + row.passAtK, 0)).toBeGreaterThan(0);
        // MCTS + PPM used the reward model: its trees carry PPM scores.
        const mcts = result.rows.find((row) => row.method === "MCTS+PPM")!;
        const tree = JSON.parse(readFileSync(join(mcts.dir, "trees.jsonl"), "utf8").split("\n")[0]!) as { rstar: Record<string, { reward_score: number | null }> };
        expect(Object.values(tree.rstar).some((node) => typeof node.reward_score === "number")).toBe(true);
        expect(existsSync(join(out, "test-greedy", "store.sqlite"))).toBe(true);

        // The same numbers from `rstar eval` with the demo's settings (test split, the tiny policy's rows).
        const common = ["--dataset", "models/heldout/test.jsonl", "--limit", "3", "--seed", "0", "--threads", "1", "--quiet", "--json"];
        const equivalents: [string, string[]][] = [
            ["greedy", ["--method", "greedy"]],
            ["maj@2", ["--method", "maj@2"]],
            ["MCTS+PPM", ["--method", "mcts", "--rollouts", "2", "--candidates", "2"]],
        ];
        for (const [label, args] of equivalents) {
            const dir = join(root, `eval-${label.replace(/[^a-z0-9]/gi, "")}`);
            const run = await rstar(["eval", ...common, ...args, "--out", dir]);
            expect(run.code, run.stderr).toBe(0);
            const row = result.rows.find((r) => r.split === "test" && r.method === label)!;
            expect((JSON.parse(run.stdout) as { accuracy: number }).accuracy, label).toBe(row.accuracy);
            expect(selections(dir), label).toEqual(selections(row.dir));
        }
    }, 900_000);

    it("prints the rounds table of the shipped models: one line per round, accuracies as percentages, every evaluation a column", () => {
        const manifest = { builtBy: "rstar evolve --preset synthetic --out DIR --export-models models" };
        const text = formatRounds(
            [
                { round: 1, coverage: 0.972, sft_records: 4577, ppm_pairs: 11734, ppm_heldout: 0.738, "test-greedy": 0.515, seconds: 1351 },
                { round: 2, coverage: 0.64, sft_records: 237, ppm_pairs: 365, ppm_heldout: 0.718, "test-greedy": 0.515, "test-mcts": 0.545, seconds: 920 },
            ],
            manifest,
        );
        const lines = text.trim().split("\n");
        expect(lines[0]).toContain(manifest.builtBy);
        expect(lines[1]?.trim().split(/\s+/)).toEqual(["round", "coverage", "sft_records", "ppm_pairs", "ppm_heldout", "test-greedy", "test-mcts", "seconds"]);
        expect(lines[3]?.trim().split(/\s+/)).toEqual(["1", "97.2%", "4577", "11734", "73.8%", "51.5%", "-", "23", "min"]);
        expect(lines[4]?.trim().split(/\s+/)).toEqual(["2", "64.0%", "237", "365", "71.8%", "51.5%", "54.5%", "15", "min"]);
        expect(roundsTable({})).toBeNull();
        expect(roundsTable({ table: [] })).toBeNull();
    });
});
