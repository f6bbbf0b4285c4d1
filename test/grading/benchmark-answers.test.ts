/** Real gold-answer styles from the benchmark files: every MATH500 answer equals itself and its canonical variants. */
import { readFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { benchmarkPath } from "../../src/data/index.js";
import { analyze, createGrader } from "../../src/grading/index.js";

const load = (name: string): string[] =>
    (JSON.parse(readFileSync(benchmarkPath(name), "utf8")) as Array<{ answer: unknown }>).map((d) => String(d.answer));

const grader = createGrader({ timeoutMs: 20_000 });
afterAll(() => grader.dispose());

function variants(answer: string): string[] {
    return [
        answer,
        answer.replace(/\\frac/g, "\\dfrac"),
        `  ${answer.replace(/\+/g, " + ").replace(/=/g, " = ")}  `,
        `$${answer}$`,
        `\\boxed{${answer}}`,
    ];
}

describe("MATH500 gold answers", () => {
    const answers = load("math500");
    it("parse into a typed form (not text) for at least 95%", () => {
        const typed = answers.filter((a) => analyze(a).node.t !== "text").length;
        expect(typed / answers.length).toBeGreaterThanOrEqual(0.95);
    });
    it("each equals itself and its variants", async () => {
        const failures: string[] = [];
        for (const answer of answers) {
            for (const variant of variants(answer)) {
                const j = await grader.judge(answer, variant);
                if (!j.equal) failures.push(`${JSON.stringify(answer)} vs ${JSON.stringify(variant)}: ${j.method} ${j.reason ?? ""}`);
            }
        }
        expect(failures).toEqual([]);
    }, 300_000);
});

describe("other benchmarks' gold answers", () => {
    it.each(["olympiadbench", "gaokao2023en", "collegemath"])("%s answers equal themselves", async (name) => {
        const failures: string[] = [];
        // Empty gold answers (two in gaokao2023en) never match anything, not even themselves.
        for (const answer of load(name).slice(0, 400).filter((a) => a.trim() !== "")) {
            if (!(await grader.equal(answer, answer))) failures.push(answer);
        }
        expect(failures).toEqual([]);
    }, 300_000);
});
