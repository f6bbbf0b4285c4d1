import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { officialFinalAnswerRecord, selectFinalAnswerPairs, trlFinalAnswerRecord, type LeafLabel } from "./extract-ppm.js";
import { extractPpm } from "./extract-run.js";
import { officialPrompt, readTreeRecord, type ExtractionTree, type TreeNode } from "./extract-tree.js";

/**
 * A hand-built tree for "Compute 3 + 4." (answer 7). Trajectory mean Q in brackets:
 *   0.1 Q .5  ─ 0.1.1 Q 1  ✓ "7"  [.75]        0.4 Q -.5 ─ 0.4.1 Q -1 ✗ "6" [-.75]
 *   0.2 Q .25 ─ 0.2.1 Q 1  ✓ "7"  [.625]       0.5 Q 0   ─ 0.5.1 Q -1 ✗ "8" [-.5]
 *   0.3 Q 0   ─ 0.3.1 Q 1  ✓ "7"  [.5]         0.6 Q .5  ─ 0.6.1 Q -1 ✗ "9" [-.25]
 *   0.7 Q -1 "Too many consecutive steps have code errors." (not a valid answer leaf)
 * Every answer leaf is the only child of its parent, so sibling pairs never compare two answer steps.
 */
const states: Record<string, { text: string; extra_info?: string; final_answer?: string; q_value: number }> = {
    "0": { text: "", extra_info: "question: Compute 3 + 4.", q_value: 0 },
    "0.1": { text: "s1;", q_value: 0.5 },
    "0.1.1": { text: "a7;", final_answer: "7", q_value: 1 },
    "0.2": { text: "s2;", q_value: 0.25 },
    "0.2.1": { text: "b7;", final_answer: "7", q_value: 1 },
    "0.3": { text: "s3;", q_value: 0 },
    "0.3.1": { text: "c7;", final_answer: "7", q_value: 1 },
    "0.4": { text: "s4;", q_value: -0.5 },
    "0.4.1": { text: "d6;", final_answer: "6", q_value: -1 },
    "0.5": { text: "s5;", q_value: 0 },
    "0.5.1": { text: "e8;", final_answer: "8", q_value: -1 },
    "0.6": { text: "s6;", q_value: 0.5 },
    "0.6.1": { text: "f9;", final_answer: "9", q_value: -1 },
    "0.7": { text: "s7;", final_answer: "Too many consecutive steps have code errors.", q_value: -1 },
};
const record = { question: "Compute 3 + 4.", answer: "7", rstar: states };

function tree(value: unknown = record): ExtractionTree {
    const read = readTreeRecord(value);
    if (read.kind !== "tree") throw new Error("not a tree");
    return read.tree;
}

const tags = (pairs: { chosen: TreeNode; rejected: TreeNode }[]) => pairs.map((p) => `${p.chosen.tag}>${p.rejected.tag}`);

describe("paper-style final-answer pairs", () => {
    it("pairs the two correct trajectories with the highest mean Q against the two wrong ones with the lowest", () => {
        const pairs = selectFinalAnswerPairs(tree());
        expect(tags(pairs)).toEqual(["0.1.1>0.4.1", "0.1.1>0.5.1", "0.2.1>0.4.1", "0.2.1>0.5.1"]);
        expect(pairs.map((p) => p.chosenMeanQ - p.rejectedMeanQ)).toEqual([1.5, 1.25, 1.375, 1.125]);
        const first = pairs[0] as (typeof pairs)[number];
        // Whole trajectories after the question prompt; the counts give the tree's pairs a total weight of 1.
        expect(officialFinalAnswerRecord(first)).toEqual({ prompt: officialPrompt("Compute 3 + 4."), neg: "s4;d6;", pos: "s1;a7;", neg_count: 2, pos_count: 2 });
        expect(trlFinalAnswerRecord(first)).toEqual({ prompt: officialPrompt("Compute 3 + 4."), chosen: "s1;a7;", rejected: "s4;d6;" });
    });

    it("uses the given labels, and gives nothing when one side is empty", () => {
        // Grading by answer: "8" counted correct too, so it becomes the third correct (mean -.5, not in the top 2).
        const byAnswer = (node: TreeNode): LeafLabel => {
            if (node.children.length > 0 || node.finalAnswer === "" || node.finalAnswer.startsWith("Too many")) return { correct: false, wrong: false };
            const ok = node.finalAnswer === "7" || node.finalAnswer === "8";
            return { correct: ok, wrong: !ok };
        };
        expect(tags(selectFinalAnswerPairs(tree(), byAnswer))).toEqual(["0.1.1>0.4.1", "0.1.1>0.6.1", "0.2.1>0.4.1", "0.2.1>0.6.1"]);
        const onlyCorrect = { ...record, rstar: Object.fromEntries(Object.entries(states).filter(([tag]) => !/^0\.[456]/.test(tag))) };
        expect(selectFinalAnswerPairs(tree(onlyCorrect))).toEqual([]);
        // One wrong trajectory: two positives against it.
        const oneWrong = { ...record, rstar: Object.fromEntries(Object.entries(states).filter(([tag]) => !/^0\.[56]/.test(tag))) };
        const pairs = selectFinalAnswerPairs(tree(oneWrong));
        expect(tags(pairs)).toEqual(["0.1.1>0.4.1", "0.2.1>0.4.1"]);
        expect(pairs.map((p) => [p.posCount, p.negCount])).toEqual([[2, 1], [2, 1]]);
    });

    describe("extractPpm", () => {
        const dir = mkdtempSync(join(tmpdir(), "rstar-final-pairs-"));
        afterAll(() => rmSync(dir, { recursive: true, force: true }));
        const file = join(dir, "trees.jsonl");
        writeFileSync(file, JSON.stringify(record) + "\n");

        async function extract(finalAnswerPairs?: "official" | "paper") {
            const records: object[] = [];
            const summary = await extractPpm({ files: [file], format: "official", write: (r) => void records.push(r), labelling: "q", minMargin: 0.5, minEditDistance: 0, ...(finalAnswerPairs ? { finalAnswerPairs } : {}) });
            return { summary, records };
        }

        it("official rule by default: no sibling pair compares two answer steps and no final-answer pair is added", async () => {
            const { summary, records } = await extract();
            expect(summary.finalAnswerPairs).toBe(0);
            expect(records.some((r) => (r as { pos: string }).pos.includes("7;"))).toBe(false);
            expect(await extract("official")).toEqual({ summary: { ...summary, durationMs: expect.any(Number) }, records });
        });

        it('"paper" adds the four final-answer pairs after the sibling pairs', async () => {
            const official = await extract();
            const { summary, records } = await extract("paper");
            expect(summary.finalAnswerPairs).toBe(4);
            expect(summary.pairs).toBe(official.summary.pairs + 4);
            expect(records.slice(0, official.records.length)).toEqual(official.records);
            expect(records.slice(official.records.length).map((r) => (r as { pos: string; neg: string }).pos + ">" + (r as { neg: string }).neg)).toEqual([
                "s1;a7;>s4;d6;", "s1;a7;>s5;e8;", "s2;b7;>s4;d6;", "s2;b7;>s5;e8;",
            ]);
        });
    });
});
