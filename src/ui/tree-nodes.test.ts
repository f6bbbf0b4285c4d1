import { describe, expect, it } from "vitest";
import { treeNodes } from "./tree-nodes.js";

const state = (extra: Record<string, unknown> = {}) => ({ text: "t", extra_info: "", action: "", action_input: "", final_answer: "", value: 0, q_value: 0, visit_count: 0, ...extra });

describe("treeNodes", () => {
    it("orders tags numerically, links each node to its parent, and splits code from observation", () => {
        const nodes = treeNodes({
            "0.10": state(),
            "0": state({ kind: "root" }),
            "0.9": state({ action: "python_interpreter", action_input: "<code>\nprint(1)\n<end_of_code>", observation: "1", kind: "last-code", q_value: 0.5, visit_count: 2, reward_score: 0.25 }),
            "0.9.1": state({ kind: "answer", final_answer: "1", terminal_reason: "answer", correct: true }),
        });
        expect(nodes.map((node) => [node.tag, node.parent, node.depth])).toEqual([
            ["0", null, 0],
            ["0.9", "0", 1],
            ["0.9.1", "0.9", 2],
            ["0.10", "0", 1],
        ]);
        expect(nodes[1]).toMatchObject({ code: "<code>\nprint(1)\n<end_of_code>", observation: "1", q: 0.5, visits: 2, ppm: 0.25, kind: "last-code" });
        expect(nodes[2]).toMatchObject({ code: null, observation: null, final_answer: "1", terminal_reason: "answer", correct: true, ppm: null });
    });

    it("hangs a node whose parent is missing from the nearest ancestor present, and ignores keys that are no tags", () => {
        const nodes = treeNodes({ "0": state(), "0.1.2.3": state(), "0.1": state(), "x": state(), "0..1": state() });
        expect(nodes.map((node) => [node.tag, node.parent])).toEqual([
            ["0", null],
            ["0.1", "0"],
            ["0.1.2.3", "0.1"],
        ]);
        expect(treeNodes(null)).toEqual([]);
        expect(treeNodes([1, 2])).toEqual([]);
    });
});
