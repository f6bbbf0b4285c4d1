import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { officialFinalAnswerRecord, selectFinalAnswerPairs, trlFinalAnswerRecord } from "./extract-ppm.js";
import { extractPpm } from "./extract-run.js";
import { officialPrompt, readTreeRecord, type ExtractionTree } from "./extract-tree.js";

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

const trees = fixtureTrees();

function state(text: string, q: number, finalAnswer = "") {
    return { text, extra_info: "", action: "", action_input: "", final_answer: finalAnswer, value: q, q_value: q, visit_count: 1 };
}

describe("final-answer pairs (paper §3.3: two best correct vs two worst wrong trajectories by mean Q)", () => {
    it("takes the 2 correct trajectories with the highest mean Q and the 2 wrong ones with the lowest", () => {
        // fixture 2 ("Compute 2 + 3."): correct leaves by mean Q 0.1.1 (.875), 0.3.1 (.75), 0.2.1 (.625), 0.6.1.1 (.5);
        // wrong leaves 0.5.1 (-.875), 0.4.1 (-.75), 0.6.4.1 (-.583), 0.6.3.1 (-.5), 0.6.2.1 (-.417)
        const pairs = selectFinalAnswerPairs(trees[1]!);
        expect(pairs.map((p) => `${p.chosen.tag}>${p.rejected.tag}`)).toEqual(["0.1.1>0.5.1", "0.1.1>0.4.1", "0.3.1>0.5.1", "0.3.1>0.4.1"]);
        expect(pairs.map((p) => [p.chosenMeanQ, p.rejectedMeanQ])[0]).toEqual([0.875, -0.875]);
        expect(pairs.every((p) => p.posCount === 2 && p.negCount === 2)).toBe(true);
        const record = officialFinalAnswerRecord(pairs[0]!);
        expect(record.prompt).toBe(officialPrompt("Compute 2 + 3."));
        // each side is every step from the root down to the answer: what the PPM scores for that answer in search
        expect(record.pos).toBe("<code>\n# Step 1: take two and add three directly\nx1 = 31 + 1\n<end_of_step>\n<answer>The answer is \\boxed{5}<end_of_answer>");
        expect(record.neg.endsWith("\\boxed{-1}<end_of_answer>")).toBe(true);
        expect([record.pos_count, record.neg_count]).toEqual([2, 2]);
        expect(trlFinalAnswerRecord(pairs[0]!)).toEqual({ prompt: record.prompt, chosen: record.pos, rejected: record.neg });
    });

    it("needs both a correct and a wrong answer in the tree", () => {
        expect(selectFinalAnswerPairs(trees[4]!)).toEqual([]); // no valid answer leaf
        expect(selectFinalAnswerPairs(trees[5]!)).toEqual([]); // only correct answers
    });

    it("counts trajectories with the same text once, keeping the best (correct) or worst (wrong) mean Q", () => {
        const read = readTreeRecord({
            question: "Compute 1 + 2.",
            answer: "3",
            rstar: {
                "0": { ...state("", 0), extra_info: "question: Compute 1 + 2." },
                "0.1": state("<code>\nx = 1 + 2\n<end_of_step>", 0.5),
                "0.1.1": state("\n<answer>\\boxed{3}<end_of_answer>", 1, "3"),
                "0.2": state("<code>\nx = 1 - 2\n<end_of_step>", -0.25),
                "0.2.1": state("\n<answer>\\boxed{-1}<end_of_answer>", -1, "-1"),
                "0.3": state("<code>\nx = 1 - 2\n<end_of_step>", -0.75),
                "0.3.1": state("\n<answer>\\boxed{-1}<end_of_answer>", -1, "-1"),
            },
        });
        if (read.kind !== "tree") throw new Error("not a tree");
        const pairs = selectFinalAnswerPairs(read.tree);
        expect(pairs.map((p) => `${p.chosen.tag}>${p.rejected.tag}`)).toEqual(["0.1.1>0.3.1"]);
        expect([pairs[0]!.posCount, pairs[0]!.negCount]).toEqual([1, 1]);
    });

    it("extractPpm writes them after each tree's step pairs only when asked", async () => {
        const files = [new URL("../../test/data/fixtures/extract/trees.jsonl", import.meta.url).pathname];
        const run = async (paper: boolean) => {
            const records: { pos: string }[] = [];
            const summary = await extractPpm({ files, format: "official", write: (r) => void records.push(r as { pos: string }), labelling: "q", minMargin: 0.5, minEditDistance: 20, finalAnswerPairs: paper ? "paper" : "official" });
            return { records, summary };
        };
        const plain = await run(false);
        const withFinal = await run(true);
        const expected = trees.reduce((sum, tree) => sum + selectFinalAnswerPairs(tree).length, 0);
        expect(expected).toBeGreaterThan(0);
        expect(plain.summary.finalAnswerPairs).toBe(0);
        expect(withFinal.summary.finalAnswerPairs).toBe(expected);
        expect(withFinal.summary.pairs).toBe(plain.summary.pairs + expected);
        // the step pairs are unchanged and come first within each tree: the official output is a subsequence
        const steps = withFinal.records.filter((r) => !r.pos.includes("<answer>"));
        expect(steps).toEqual(plain.records.filter((r) => !r.pos.includes("<answer>")));
    });
});
