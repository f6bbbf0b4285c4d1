/**
 * Cases from public graders' own tests (test/grading/fixtures/public-graders.jsonl, made by
 * import_public_cases.py; sources and licences are on every line). `expected` is our verdict: where it differs
 * from `theirs`, `conflict` says which of our conventions decides.
 */
import { readFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { createGrader, extractAnswer } from "../../src/grading/index.js";

interface Case {
    id: string;
    source: string;
    license: string;
    gold: string;
    pred: string;
    theirs: boolean | null;
    expected: boolean;
    extract: boolean;
    conflict?: string;
}

const cases = readFileSync(new URL("./fixtures/public-graders.jsonl", import.meta.url), "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as Case);

const grader = createGrader({ timeoutMs: 20_000 });
afterAll(() => grader.dispose());

describe("public graders' cases", () => {
    it("has attribution on every case and a reason on every conflict", () => {
        expect(cases.length).toBeGreaterThan(250);
        for (const c of cases) {
            expect(c.source).toMatch(/^(huggingface\/Math-Verify|QwenLM\/Qwen2\.5-Math)@/);
            expect(c.license).toMatch(/Apache-2\.0|MIT/);
            if (c.theirs !== null && c.theirs !== c.expected) expect(c.conflict).toBeTruthy();
        }
    });

    it.each(cases.map((c) => [c.id, c] as const))("%s", async (_id, c) => {
        const side = (text: string): string => (c.extract ? (extractAnswer(text) ?? text) : text);
        const judgement = await grader.judge(side(c.gold), side(c.pred));
        expect(judgement.equal, JSON.stringify(judgement)).toBe(c.expected);
    });
});
