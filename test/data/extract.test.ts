import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
    editDistance,
    extractPpm,
    extractSft,
    loadDataset,
    officialPrompt,
    readTreeRecord,
    type ExtractIssue,
    type ExtractionTree,
    type TreeNode,
} from "../../src/data/index.js";
import { createGrader, type Grader } from "../../src/grading/index.js";
import { OpenAiCompatibleBackend } from "../../src/llm/index.js";
import { runSearch } from "../../src/runs/index.js";
import { createSandbox, type Sandbox } from "../../src/sandbox/index.js";
import { BASE_SETTINGS } from "../../src/search/index.js";
import { runRstar } from "../support/cli.js";
import { startSimulatedPolicyServer, type SimulatedPolicyServer } from "../support/simulated-policy.js";

/**
 * Extraction against the official scripts' own output (fixtures made by running extra_sft_file.py,
 * train/sample_sft_data.py, extra_rm_file.py and train/sample_rm_data.py on our tree files; see
 * test/data/fixtures/extract/README.md), on a live search run, and through the CLI.
 */

const fixtures = new URL("./fixtures/extract/", import.meta.url).pathname;
const fixture = (name: string) => join(fixtures, name);
const readJson = <T>(name: string) => JSON.parse(readFileSync(fixture(name), "utf8")) as T;
const readJsonl = <T>(path: string) => readFileSync(path, "utf8").split("\n").filter((line) => line.trim() !== "").map((line) => JSON.parse(line) as T);
/** The official SFT output is shuffled (random.seed(0)): compare as multisets. */
const sorted = <T>(records: T[]) => records.map((r) => JSON.stringify(r)).sort();

let grader: Grader;
const root = mkdtempSync(join(tmpdir(), "rstar-extract-"));

beforeAll(() => {
    grader = createGrader();
});

afterAll(() => {
    grader?.dispose();
});

async function sft(files: string[], perProblem: number, format: "official" | "trl" = "official") {
    const records: object[] = [];
    const issues: ExtractIssue[] = [];
    const summary = await extractSft({ files, grader, perProblem, format, write: (record) => void records.push(record), onIssue: (issue) => issues.push(issue) });
    return { records, issues, summary };
}

async function ppm(files: string[], options: { minMargin?: number; minEditDistance?: number; labelling?: "q" | "grader"; format?: "official" | "trl" } = {}) {
    const records: object[] = [];
    const summary = await extractPpm({
        files,
        grader,
        format: options.format ?? "official",
        minMargin: options.minMargin ?? 0.5,
        minEditDistance: options.minEditDistance ?? 20,
        labelling: options.labelling ?? "q",
        write: (record) => void records.push(record),
    });
    return { records, summary };
}

describe("parity with the official extraction scripts", () => {
    it("gives the official SFT records on the hand-made trees, for n = 1, 2 and 4", async () => {
        for (const [n, expected] of [[1, "trees.sft-n1.json"], [2, "trees.sft.json"], [4, "trees.sft-n4.json"]] as const) {
            const { records, summary } = await sft([fixture("trees.jsonl")], n);
            expect(sorted(records), `n = ${n}`).toEqual(sorted(readJson<object[]>(`official/${expected}`)));
            expect(summary.records).toBe(records.length);
            expect(summary.duplicateQuestions).toBe(1);
        }
    });

    it("gives the official PPM pairs, in the official order, on the hand-made trees", async () => {
        const { records, summary } = await ppm([fixture("trees.jsonl")]);
        expect(records).toEqual(readJson<object[]>("official/trees.rm.json"));
        expect(summary).toMatchObject({ problems: 6, pairs: 8, problemsWithPairs: 2, ignoredNodes: 2 });
    });

    it("gives the official SFT records and pair candidates on a real run's trees", async () => {
        const trees = fixture("run-trees.jsonl");
        const { records } = await sft([trees], 2);
        expect(records.length).toBeGreaterThan(5);
        expect(sorted(records)).toEqual(sorted(readJson<object[]>("official/run-trees.sft.json")));

        // The simulated policy's steps are short, so the official edit-distance threshold (20) keeps none of them.
        expect((await ppm([trees])).records).toEqual(readJson<object[]>("official/run-trees.rm.json"));
        // Without thresholds, our pairs are exactly extra_rm_file.py's output (same order, counts and margins).
        const candidates = readJsonl<{ prompt: string; pos: string; neg: string; pos_count: number; neg_count: number; step_margin: number }>(fixture("official/run-trees.rm-extra.jsonl"));
        const { records: loose, summary } = await ppm([trees], { minMargin: 0, minEditDistance: 0 });
        expect(loose).toEqual(candidates.map(({ prompt, neg, pos, neg_count, pos_count }) => ({ prompt, neg, pos, neg_count, pos_count })));
        expect(summary.candidatePairs).toBe(candidates.length);
        const afterThresholds = candidates.filter((c) => c.step_margin >= 0.5 && editDistance(c.neg, c.pos) >= 10);
        expect((await ppm([trees], { minEditDistance: 10 })).records).toHaveLength(afterThresholds.length);
    });

    it("labels by grade with --label grader, which agrees with Q = ±1 on ground-truth trees", async () => {
        const trees = fixture("run-trees.jsonl");
        const byQ = await ppm([trees], { minEditDistance: 0 });
        const byGrade = await ppm([trees], { minEditDistance: 0, labelling: "grader" });
        expect(byGrade.records).toEqual(byQ.records);
        // the hand-made ranking tree has a correct leaf with Q .75: the grader sees it, the Q rule does not
        const hand = await ppm([fixture("trees.jsonl")], { labelling: "grader" });
        expect(hand.summary.candidatePairs).toBe((await ppm([fixture("trees.jsonl")])).summary.candidatePairs + 1);
    });
});

describe("input handling", () => {
    it("reports malformed lines with file and line, skips them, and extracts the rest", async () => {
        const file = fixture("malformed.jsonl");
        const { issues, summary, records } = await sft([file], 2);
        expect(issues.map((issue) => [issue.file, issue.line])).toEqual([[file, 2], [file, 3], [file, 4]]);
        expect(issues[1]?.message).toContain('"rstar" is missing');
        expect(issues[2]?.message).toContain('rstar["0"].q_value');
        expect(summary).toMatchObject({ problems: 2, skipped: 3, emptyTrees: 1 });
        expect(records).toHaveLength(3);
    });

    it("writes TRL records", async () => {
        const { records } = await sft([fixture("trees.jsonl")], 2, "trl");
        for (const record of records as { prompt: string; completion: string }[]) {
            expect(Object.keys(record)).toEqual(["prompt", "completion"]);
            expect(record.prompt).toMatch(/^<\|user\|>:\n.*\n<\|assistant\|>: Let's think step by step and solve the problem with code\.$/s);
        }
        const pairs = (await ppm([fixture("trees.jsonl")], { format: "trl" })).records as { prompt: string; chosen: string; rejected: string }[];
        expect(pairs).toHaveLength(8);
        for (const pair of pairs) expect(Object.keys(pair)).toEqual(["prompt", "chosen", "rejected"]);
    });
});

describe("extraction from a live search run (simulated policy, real sandbox and grader)", () => {
    let server: SimulatedPolicyServer;
    let sandbox: Sandbox;
    const dir = join(root, "run");
    const questions = ["Compute 3 + 4 * 5.", "Compute (2 + 3) * 4.", "Compute 7 * 8 - 9.", "Compute 12 - 4 + 6 * 2.", "Compute 9 * (3 + 2) - 1.", "Compute 5 + 6."];
    const answers = ["23", "20", "47", "20", "44", "11"];

    beforeAll(async () => {
        server = await startSimulatedPolicyServer({ stepCorrectProbability: 0.6, codeErrorProbability: 0.15 });
        sandbox = await createSandbox({ workers: 2 });
        const dataset = join(root, "arith.jsonl");
        writeFileSync(dataset, questions.map((question, i) => JSON.stringify({ question, answer: answers[i] })).join("\n") + "\n");
        await runSearch({
            dir,
            resume: false,
            datasetPath: dataset,
            problems: await loadDataset(dataset),
            settings: { ...BASE_SETTINGS, rollouts: 16, candidates: 3, temperature: 1, errorThreshold: 2, seed: 3 },
            preset: null,
            services: { policy: new OpenAiCompatibleBackend({ baseURL: server.baseURL, model: server.model }), executor: sandbox, judge: grader },
            concurrency: 3,
            versions: {},
        });
    });

    afterAll(async () => {
        await sandbox?.dispose();
        await server?.close();
    });

    function trees(): ExtractionTree[] {
        return readJsonl<unknown>(join(dir, "trees.jsonl")).map((value) => {
            const read = readTreeRecord(value);
            if (read.kind !== "tree") throw new Error("not a tree");
            return read.tree;
        });
    }

    it("extracts SFT records that are correct, at most n per problem, and free of 'error'", async () => {
        const perProblem = 2;
        const { records, summary } = await sft([join(dir, "trees.jsonl")], perProblem);
        expect(summary.problems).toBe(6);
        expect(records.length).toBeGreaterThan(0);
        const perQuery = new Map<string, number>();
        for (const record of records as { query: string; response: string }[]) {
            const index = questions.indexOf(record.query);
            expect(index).toBeGreaterThanOrEqual(0);
            perQuery.set(record.query, (perQuery.get(record.query) ?? 0) + 1);
            expect(record.response.toLowerCase()).not.toContain("error");
            expect(record.response.startsWith("<code>")).toBe(true);
            expect(await grader.equal(answers[index] as string, record.response, { extract: true })).toBe(true);
        }
        for (const count of perQuery.values()) expect(count).toBeLessThanOrEqual(perProblem);
        expect(summary.trajectories).toBe(records.length);
        expect(summary.correctTrajectories).toBeGreaterThanOrEqual(records.length);
    });

    it("extracts PPM pairs that share the prefix, clear the margin and reach a correct vs a wrong answer", async () => {
        const minMargin = 0.5;
        const { records, summary } = await ppm([join(dir, "trees.jsonl")], { minMargin, minEditDistance: 1 });
        expect(records.length).toBeGreaterThan(0);
        expect(summary.pairs).toBe(records.length);
        const all = trees();
        const reaches = (node: TreeNode, q: number): boolean => (node.children.length === 0 ? node.q === q && node.finalAnswer !== "" : node.children.some((c) => reaches(c, q)));
        for (const record of records as { prompt: string; pos: string; neg: string; pos_count: number; neg_count: number }[]) {
            const tree = all.find((t) => record.prompt.startsWith(officialPrompt(t.question)));
            expect(tree).toBeDefined();
            // the node whose path text is the prompt, with the two steps as children
            const parents = tree!.nodes.filter((node) => officialPrompt(tree!.question) + pathText(node) === record.prompt);
            const match = parents
                .map((parent) => ({ pos: parent.children.find((c) => c.text === record.pos), neg: parent.children.find((c) => c.text === record.neg) }))
                .find((m) => m.pos !== undefined && m.neg !== undefined);
            expect(match).toBeDefined();
            expect(match!.pos!.q - match!.neg!.q).toBeGreaterThanOrEqual(minMargin);
            expect(reaches(match!.pos!, 1)).toBe(true);
            expect(reaches(match!.neg!, -1)).toBe(true);
            expect(editDistance(record.pos, record.neg)).toBeGreaterThanOrEqual(1);
            expect(record.pos_count).toBeLessThanOrEqual(4);
            expect(record.neg_count).toBeLessThanOrEqual(4);
        }
    });
});

function pathText(node: TreeNode): string {
    let text = "";
    for (let current: TreeNode | null = node; current !== null && current.parent !== null; current = current.parent) text = current.text + text;
    return text;
}

describe("rstar extract (CLI)", () => {
    it("prints help, extracts with --run and --json, and sets exit codes", async () => {
        const help = await cli(["extract", "sft", "--help"]);
        expect(help.code).toBe(0);
        expect(help.stdout).toContain("--per-problem");
        expect((await cli(["extract", "ppm", "--help"])).stdout).toContain("--min-edit-distance");

        const out = join(root, "cli", "sft.jsonl");
        const run = await cli(["extract", "sft", "--trees", fixture("trees.jsonl"), "--out", out, "--json"]);
        expect(run.code).toBe(0);
        const summary = JSON.parse(run.stdout) as { records: number; kind: string };
        expect(summary).toMatchObject({ kind: "sft", records: 6 });
        expect(readJsonl(out)).toHaveLength(6);
        expect(run.stderr).toContain("trajectories 6 written");

        const fromRun = await cli(["extract", "sft", "--run", join(root, "run"), "--out", join(root, "cli", "run-sft.jsonl"), "--json", "--quiet"]);
        expect(fromRun.code).toBe(0);
        expect(JSON.parse(fromRun.stdout)).toMatchObject({ kind: "sft", problems: 6, files: [join(root, "run", "trees.jsonl")] });

        const pairsOut = join(root, "cli", "pairs.jsonl");
        const pairs = await cli(["extract", "ppm", "--trees", fixture("trees.jsonl"), "--out", pairsOut, "--format", "trl", "--min-margin", "0.25"]);
        expect(pairs.code).toBe(0);
        expect(readJsonl(pairsOut)).toHaveLength(9);

        const malformed = await cli(["extract", "ppm", "--trees", fixture("malformed.jsonl"), "--out", join(root, "cli", "m.jsonl")]);
        expect(malformed.code).toBe(1);
        expect(malformed.stderr).toContain("malformed.jsonl:2:");
        expect(malformed.stderr).toContain("malformed.jsonl:4:");

        expect((await cli(["extract", "sft", "--out", join(root, "x.jsonl")])).code).toBe(2);
        expect((await cli(["extract", "sft", "--run", join(root, "nope"), "--out", join(root, "x.jsonl")])).code).toBe(2);
        expect((await cli(["extract", "sft", "--trees", fixture("trees.jsonl"), "--out", join(root, "x.jsonl"), "--per-problem", "0"])).code).toBe(2);
        expect((await cli(["extract", "sft", "--trees", fixture("trees.jsonl"), "--out", join(root, "x.jsonl"), "--format", "csv"])).code).toBe(2);
    }, 60_000);
});

const cli = (args: string[]) => runRstar(args);
