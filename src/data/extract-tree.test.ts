import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { editDistance, pySorted, pyStrip, pySum } from "./extract-python.js";
import { isValidFinalAnswer, leavesInOrder, officialPrompt, readTreeRecord, stepsTo, type ExtractionTree } from "./extract-tree.js";

function fixtureTrees(): ExtractionTree[] {
    const text = readFileSync(new URL("../../test/data/fixtures/extract/trees.jsonl", import.meta.url), "utf8");
    return text
        .trim()
        .split("\n")
        .map((line) => {
            const read = readTreeRecord(JSON.parse(line));
            if (read.kind !== "tree") throw new Error(`fixture is not a tree: ${JSON.stringify(read)}`);
            return read.tree;
        });
}

const state = (text: string, q: number, finalAnswer = "") => ({ text, extra_info: "", final_answer: finalAnswer, q_value: q, value: q, visit_count: 1 });

describe("rebuilding a tree the way the official rebuild_tree does", () => {
    it("orders children by numeric tag index, ignores orphans and non-canonical tags, and reads the question from the root", () => {
        const tree = fixtureTrees()[3] as ExtractionTree;
        expect(tree.question).toBe("Compute 6 * 7.");
        expect(tree.gold).toBe("42");
        const middle = tree.root.children[0];
        expect(middle?.children.map((child) => child.tag)).toEqual(Array.from({ length: 11 }, (_, i) => `0.1.${i + 1}`));
        expect(tree.ignoredNodes).toBe(2); // "0.7.1" (no "0.7") and "0.1.01"
        expect(tree.nodes.map((node) => node.index)).toEqual(tree.nodes.map((_, i) => i));
        expect(leavesInOrder(tree.root).map((leaf) => leaf.tag).slice(0, 3)).toEqual(["0.1.1", "0.1.2.1", "0.1.3"]);
        const leaf = tree.nodes.find((node) => node.tag === "0.1.2.1")!;
        expect(stepsTo(leaf).map((node) => node.tag)).toEqual(["0.1", "0.1.2", "0.1.2.1"]);
        expect(isValidFinalAnswer(leaf)).toBe(true);
        expect(isValidFinalAnswer(tree.nodes.find((node) => node.tag === "0.1.1")!)).toBe(false); // NO_VALID_CHILD
    });

    it("accepts children from index 0 (rebuild_tree walks {tag}.0 upward) and applies InferNode defaults", () => {
        const read = readTreeRecord({ question: "Q?", answer: 3, rstar: { "0": { extra_info: "question: Q?" }, "0.0": { text: "a", final_answer: "3" }, "0.1": state("b", 1, "3") } });
        expect(read.kind).toBe("tree");
        if (read.kind !== "tree") return;
        expect(read.tree.gold).toBe("3");
        expect(read.tree.root.children.map((child) => [child.tag, child.q, child.text])).toEqual([["0.0", 0, "a"], ["0.1", 1, "b"]]);
    });

    it("falls back to the record's question when the root does not carry it", () => {
        const read = readTreeRecord({ query: "What?", rstar: { "0": state("", 0) } });
        expect(read.kind === "tree" && read.tree.question).toBe("What?");
        expect(read.kind === "tree" && read.tree.gold).toBe(null);
    });

    it("reports malformed records with the place of the problem, and a null tree as empty", () => {
        expect(readTreeRecord([1, 2])).toMatchObject({ kind: "malformed", message: expect.stringContaining("JSON object") });
        expect(readTreeRecord({ question: "Q" })).toMatchObject({ kind: "malformed", message: expect.stringContaining('"rstar" is missing') });
        expect(readTreeRecord({ question: "Q", rstar: { "0.1": state("", 0) } })).toMatchObject({ kind: "malformed", message: expect.stringContaining('root node "0"') });
        expect(readTreeRecord({ question: "Q", rstar: { "0": state("", 0), "0.1": { ...state("", 0), q_value: "x" } } })).toMatchObject({
            kind: "malformed",
            message: expect.stringContaining('rstar["0.1"].q_value'),
        });
        expect(readTreeRecord({ question: "Q", rstar: { "0": "nope" } })).toMatchObject({ kind: "malformed", message: expect.stringContaining('rstar["0"]') });
        expect(readTreeRecord({ question: "Q", answer: { a: 1 }, rstar: { "0": state("", 0) } })).toMatchObject({ kind: "malformed", message: expect.stringContaining('"answer"') });
        expect(readTreeRecord({ rstar: { "0": state("", 0) } })).toMatchObject({ kind: "malformed", message: expect.stringContaining("no question") });
        expect(readTreeRecord({ question: "Q", rstar: null })).toEqual({ kind: "empty" });
    });

    it("builds the official prompt", () => {
        expect(officialPrompt("Q")).toBe("<|user|>:\nQ\n<|assistant|>: Let's think step by step and solve the problem with code.");
    });
});

describe("Python semantics the official scripts depend on", () => {
    it("strips like str.strip()", () => {
        expect(pyStrip(" \n\t\x1c\x85a b\u3000\r\n")).toBe("a b");
        expect(pyStrip("\ufeffa")).toBe("\ufeffa"); // not whitespace in Python, unlike JS trim()
    });

    it("computes Levenshtein distance over code points", () => {
        expect(editDistance("", "")).toBe(0);
        expect(editDistance("kitten", "sitting")).toBe(3);
        expect(editDistance("flaw", "lawn")).toBe(2);
        expect(editDistance("abc", "")).toBe(3);
        expect(editDistance("a😀b", "ab")).toBe(1); // one code point, two UTF-16 units
        expect(editDistance("prefix-XYZ-suffix", "prefix-suffix")).toBe(4);
        expect(editDistance("abcdef", "azced")).toBe(3);
    });

    it("sums left to right like Python 3.11 and sorts stably, reverse included", () => {
        expect(pySum([0.1, 0.2, 0.3])).toBe(0.1 + 0.2 + 0.3);
        const items = [{ k: 1, id: "a" }, { k: 2, id: "b" }, { k: 1, id: "c" }, { k: 2, id: "d" }];
        expect(pySorted(items, (a, b) => a.k - b.k, true).map((x) => x.id)).toEqual(["b", "d", "a", "c"]);
        expect(pySorted(items, (a, b) => a.k - b.k).map((x) => x.id)).toEqual(["a", "c", "b", "d"]);
    });
});
