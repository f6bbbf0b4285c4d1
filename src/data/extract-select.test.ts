import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { OFFICIAL_PPM_OPTIONS, officialLeafLabel, officialPpmRecord, selectPairs, trlPpmRecord, type LeafLabel, type PpmPair } from "./extract-ppm.js";
import { SftPool, correctTrajectories, officialSftRecord, selectSft, trlSftRecord } from "./extract-sft.js";
import { isValidFinalAnswer, readTreeRecord, type ExtractionTree, type TreeNode } from "./extract-tree.js";

/** The hand-checkable trees of test/data/fixtures/extract/README.md, in file order. */
function fixtureTrees(): ExtractionTree[] {
    const text = readFileSync(new URL("../../test/data/fixtures/extract/trees.jsonl", import.meta.url), "utf8");
    return text
        .trim()
        .split("\n")
        .map((line) => {
            const read = readTreeRecord(JSON.parse(line));
            if (read.kind !== "tree") throw new Error("fixture is not a tree");
            return read.tree;
        });
}

const [ranking, pairs, thresholds, officialTags, pruned, again] = fixtureTrees() as [ExtractionTree, ExtractionTree, ExtractionTree, ExtractionTree, ExtractionTree, ExtractionTree];

/** A stand-in for the grader on the fixtures' answers: numbers and \frac{a}{b}. */
function numeric(answer: string): number {
    const frac = /^\\frac\{(-?\d+)\}\{(-?\d+)\}$/.exec(answer);
    return frac ? Number(frac[1]) / Number(frac[2]) : Number(answer);
}
const correctFor = (tree: ExtractionTree) => (leaf: TreeNode) => numeric(leaf.finalAnswer) === numeric(tree.gold as string);
const leafTags = (tree: ExtractionTree, n: number) => selectSft(tree, correctFor(tree), n).kept.map((t) => t.leaf.tag);
const pairTags = (selected: PpmPair[]) => selected.map((p) => `${p.chosen.tag}>${p.rejected.tag}`);

describe("SFT selection (extra_sft_file.py + sample_sft_data.py)", () => {
    it("ranks correct trajectories by (mean Q, min Q), keeps ties in depth-first order, cuts to n, then drops 'error'", () => {
        const selection = selectSft(ranking, correctFor(ranking), 2);
        // correct: 0.1.1 (.75,.5), 0.2.1 (.75,.5: \frac{4}{2}), 0.3.1.1 (.5,0), 0.4.1 (.75,.75 but "Error" in its first step)
        expect(selection.correct.map((t) => t.leaf.tag)).toEqual(["0.1.1", "0.2.1", "0.3.1.1", "0.4.1"]);
        expect(selection.correct.map((t) => [t.meanQ, t.minQ])).toEqual([[0.75, 0.5], [0.75, 0.5], [0.5, 0], [0.75, 0.75]]);
        // top 2 = 0.4.1, 0.1.1; 0.4.1 contains "Error" and is dropped without being replaced by 0.2.1
        expect(selection.kept.map((t) => t.leaf.tag)).toEqual(["0.1.1"]);
        expect(selection.droppedForError).toBe(1);
        expect(leafTags(ranking, 1)).toEqual([]);
        expect(leafTags(ranking, 3)).toEqual(["0.1.1", "0.2.1"]);
        expect(leafTags(ranking, 4)).toEqual(["0.1.1", "0.2.1", "0.3.1.1"]);
    });

    it("uses numeric tag order for ties (0.1.2.1 before 0.1.10) and only valid answer leaves", () => {
        expect(leafTags(officialTags, 1)).toEqual(["0.1.2.1"]);
        expect(leafTags(officialTags, 5)).toEqual(["0.1.2.1", "0.1.10"]);
        expect(leafTags(pruned, 5)).toEqual([]);
        expect(leafTags(pairs, 2)).toEqual(["0.1.1", "0.3.1"]);
    });

    it("pools a repeated question across records like one stable sort over both (ties go to the earlier record)", () => {
        const pool = new SftPool<{ meanQ: number; minQ: number; tag: string }>(2);
        for (const tree of [pairs, again]) for (const t of correctTrajectories(tree, correctFor(tree))) pool.add({ meanQ: t.meanQ, minQ: t.minQ, tag: `${tree === again ? "again" : "first"}:${t.leaf.tag}` });
        // first: 0.1.1 (.875,.75) 0.2.1 (.625,.25) 0.3.1 (.75,.5) 0.6.1.1 (.5,0); again: 0.1.1 (1,1) 0.2.1 (.875,.75)
        expect(pool.top().map((x) => x.tag)).toEqual(["again:0.1.1", "first:0.1.1"]);
        const keys = [[1, 0], [2, 0], [1, 1], [2, 0], [3, -1], [1, 1]];
        const all = keys.map(([meanQ, minQ], i) => ({ meanQ: meanQ as number, minQ: minQ as number, i }));
        for (let size = 1; size <= 6; size += 1) {
            const bounded = new SftPool<(typeof all)[number]>(size);
            all.forEach((x) => bounded.add(x));
            const reference = [...all].sort((a, b) => b.meanQ - a.meanQ || b.minQ - a.minQ).slice(0, size);
            expect(bounded.top().map((x) => x.i)).toEqual(reference.map((x) => x.i));
        }
    });

    it("writes the official record and the TRL prompt/completion record", () => {
        const [kept] = selectSft(ranking, correctFor(ranking), 2).kept;
        const record = officialSftRecord(ranking.question, kept!);
        expect(record).toEqual({
            query: "Compute 1 + 1.",
            response: "<code>\n# Step 1: add the two numbers\nx = 1 + 1\n<end_of_step>\n<answer>The answer is \\boxed{2}<end_of_answer>",
        });
        expect(trlSftRecord(record)).toEqual({
            prompt: "<|user|>:\nCompute 1 + 1.\n<|assistant|>: Let's think step by step and solve the problem with code.",
            completion: record.response,
        });
        const odd = { ...kept!, text: "  <|assistant|>: Let's think step by step and solve the problem with code.x\n" };
        expect(officialSftRecord("<|user|>:\nQ", odd)).toEqual({ query: "Q", response: "x" });
    });
});

describe("PPM pairs (extra_rm_file.py + sample_rm_data.py)", () => {
    it("pairs the two best correct-reaching against the two worst wrong-reaching children, at every mixed node, breadth first", () => {
        const selection = selectPairs(pairs);
        expect(pairTags(selection.kept)).toEqual(["0.1>0.5", "0.1>0.4", "0.3>0.5", "0.3>0.4", "0.6.1>0.6.3", "0.6.1>0.6.2"]);
        expect(selection.kept.map((p) => [p.posCount, p.negCount])).toEqual([[2, 2], [2, 2], [2, 2], [2, 2], [1, 3], [1, 3]]);
        expect(selection.kept.map((p) => p.margin)).toEqual([1.5, 1.25, 1.25, 1, 1, 0.75]);
        // at 0.6 the one chosen child widens the rejected side to its three wrong-reaching children; 0.6.4's step is
        // 0.6.1's with "three"/"3" changed to "four"/"4": fewer than 20 edits, so that pair is dropped
        expect(selection).toMatchObject({ candidates: 7, droppedByMargin: 0, droppedByEditDistance: 1 });
        const rootPair = selection.kept[0]!;
        expect(rootPair.prefix).toBe("<|user|>:\nCompute 2 + 3.\n<|assistant|>: Let's think step by step and solve the problem with code.");
        const deep = selection.kept[4]!;
        expect(deep.prefix).toBe(rootPair.prefix + (pairs.nodes.find((n) => n.tag === "0.6") as TreeNode).text);
        expect(officialPpmRecord(deep)).toEqual({ prompt: deep.prefix, neg: deep.rejected.text, pos: deep.chosen.text, neg_count: 3, pos_count: 1 });
        expect(Object.keys(officialPpmRecord(deep))).toEqual(["prompt", "neg", "pos", "neg_count", "pos_count"]);
        expect(trlPpmRecord(deep)).toEqual({ prompt: deep.prefix, chosen: deep.chosen.text, rejected: deep.rejected.text });
    });

    it("needs a positive margin and a better greedy continuation before the thresholds, then applies them", () => {
        // 0.1 (Q .25) is the only correct-reaching child: rejected widens to [0.2 (-.25), 0.3 (0)].
        // 0.1>0.2 has margin exactly .5 but its best continuation averages -.0625 against the worst's .0625: not a candidate.
        // 0.1>0.3 is a candidate with margin .25 < .5.
        expect(selectPairs(thresholds)).toMatchObject({ candidates: 1, kept: [], droppedByMargin: 1, droppedByEditDistance: 0 });
        const loose = selectPairs(thresholds, { minMargin: 0.25, minEditDistance: 20 });
        expect(pairTags(loose.kept)).toEqual(["0.1>0.3"]);
        expect(loose.kept[0]).toMatchObject({ posCount: 1, negCount: 2, margin: 0.25, stepsMargin: -0.0625 - -0.5 });
    });

    it("widens the chosen side when one child is rejected, and ignores failures (NO_VALID_CHILD) as wrong answers", () => {
        const selection = selectPairs(officialTags);
        expect(pairTags(selection.kept)).toEqual(["0.1.10>0.1.11", "0.1.2>0.1.11"]);
        expect(selection.kept.map((p) => [p.posCount, p.negCount])).toEqual([[2, 1], [2, 1]]);
    });

    it("labels leaves the official way: Q of exactly ±1; too-many-errors leaves never count as wrong", () => {
        // 0.4.1 is correct but has Q .75: not a correct leaf for the official rule
        const node = (tag: string) => ranking.nodes.find((n) => n.tag === tag) as TreeNode;
        expect(officialLeafLabel(node("0.4.1"))).toEqual({ correct: false, wrong: false });
        expect(officialLeafLabel(node("0.1.2"))).toEqual({ correct: false, wrong: true });
        expect(officialLeafLabel(node("0.5"))).toEqual({ correct: false, wrong: false });
        expect(officialLeafLabel(node("0.1"))).toEqual({ correct: false, wrong: false });
        // the only mixed node is 0.1: 0.1.1 vs 0.1.2 differ by one character
        expect(selectPairs(ranking)).toMatchObject({ candidates: 1, kept: [], droppedByEditDistance: 1 });
        expect(pairTags(selectPairs(ranking, { minMargin: 0.5, minEditDistance: 0 }).kept)).toEqual(["0.1.1>0.1.2"]);
    });

    it("labels by grader verdict when asked: 0.4 then reaches a correct answer", () => {
        const graded = (tree: ExtractionTree) => (node: TreeNode): LeafLabel => {
            if (!isValidFinalAnswer(node)) return { correct: false, wrong: false };
            const ok = correctFor(tree)(node);
            return { correct: ok, wrong: !ok };
        };
        // at the root: chosen [0.4 (.75), 0.1, 0.2, 0.3] (widened) against [0.1]; only 0.4>0.1 has a positive margin (.25)
        expect(selectPairs(ranking, OFFICIAL_PPM_OPTIONS, graded(ranking))).toMatchObject({ candidates: 2, droppedByMargin: 1, droppedByEditDistance: 1 });
    });

    it("yields nothing from a tree without any valid answer leaf", () => {
        expect(selectPairs(pruned)).toEqual({ candidates: 0, kept: [], droppedByMargin: 0, droppedByEditDistance: 0 });
    });
});
