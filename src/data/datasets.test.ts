import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadDataset } from "./index.js";

const dir = mkdtempSync(join(tmpdir(), "rstar-datasets-"));
const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
};

describe("loadDataset", () => {
    it("loads the shared benchmark files as they are", async () => {
        const problems = await loadDataset("../shared/data/benchmarks/math500_test.json");
        expect(problems).toHaveLength(500);
        expect(problems[0]).toMatchObject({ position: 0, line: 2, answer: "\\left( 3, \\frac{\\pi}{2} \\right)" });
        expect(problems[1]?.line).toBe(7);
        expect(problems[0]?.record["index"]).toBe(0);
    });

    it("loads JSONL, numbers and answer lists, and records without an answer", async () => {
        const path = file("ok.jsonl", '{"question":"q1","answer":3}\n\n{"question":"q2","answer":["1/2","0.5"]}\n{"question":"q3"}\n');
        const problems = await loadDataset(path);
        expect(problems.map((p) => [p.position, p.line, p.answer])).toEqual([
            [0, 1, "3"],
            [1, 3, ["1/2", "0.5"]],
            [2, 4, null],
        ]);
    });

    it("names the file, line and field of a bad record", async () => {
        const jsonl = file("bad.jsonl", '{"question":"q1","answer":"1"}\n{"question":"","answer":"2"}\n');
        await expect(loadDataset(jsonl)).rejects.toThrow(`${jsonl}:2, field "question": must be a non-empty string`);
        const json = file("bad.json", '[\n  {"question": "q", "answer": "1"},\n  {"answer": "2"}\n]');
        await expect(loadDataset(json)).rejects.toThrow(`${json}:3, field "question"`);
        const broken = file("broken.jsonl", '{"question":"q1"}\n{"question": \n');
        await expect(loadDataset(broken)).rejects.toThrow(`${broken}:2: not valid JSON`);
        const typed = file("typed.jsonl", '{"question":"q1","answer":{"x":1}}\n');
        await expect(loadDataset(typed)).rejects.toMatchObject({ code: "INVALID_INPUT", line: 1, field: "answer" });
    });

    it("reports a missing file with FILE_NOT_FOUND", async () => {
        await expect(loadDataset(join(dir, "nope.json"))).rejects.toMatchObject({ code: "FILE_NOT_FOUND" });
    });
});
