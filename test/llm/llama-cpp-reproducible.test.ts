import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadDataset } from "../../src/data/index.js";
import { LlamaCppBackend, defaultParallelSequences, type GenerateRequest } from "../../src/llm/index.js";
import { STEP_STOPS, sftPrompt } from "../../src/steps/index.js";
import { runRstar as rstar } from "../support/cli.js";
import { runOutputs } from "../support/run-files.js";

/**
 * Reproducibility of the in-process llama.cpp policy on the shipped policy (models/policy/model.gguf): a completion's
 * text depends only on (prompt, settings, seed, index), never on what else is in flight. The old design (one context,
 * N sequences handed between requests) failed each of these: llama.cpp gave a sequence different logits depending on
 * which other sequences shared its decode batch.
 */
const MODEL = "models/policy/model.gguf";
const problems = (await loadDataset("models/heldout/test.jsonl")).slice(0, 6);

/**
 * Prompts per problem at the root and 2 and 4 steps deep (partial solutions from the gold solution), as MCTS sends:
 * the longer prompts fill llama.cpp's decode batches, where the old shared context mixed sequences.
 */
function prompts(): string[] {
    return problems.flatMap((problem) => {
        const steps = String(problem.record["solution"] ?? "").split("<end_of_step>");
        return [0, 2, 4].map((depth) => sftPrompt(problem.question, depth === 0 ? "" : "\n" + steps.slice(0, depth).join("<end_of_step>") + "<end_of_step>"));
    });
}

function requests(sampling: { temperature: number; topP: number }, n = 4): GenerateRequest[] {
    return prompts().map((prompt, index) => ({ prompt, n, ...sampling, maxTokens: 48, stop: [...STEP_STOPS], seed: 500 + 7 * index }));
}

const create = (sequences: number) => new LlamaCppBackend({ modelPath: MODEL, threads: 1, contextSize: 1024, sequences });

async function oneAtATime(list: GenerateRequest[]): Promise<string[][]> {
    const backend = create(1);
    try {
        const texts: string[][] = [];
        for (const request of list) texts.push((await backend.generate(request)).completions.map((completion) => completion.text));
        return texts;
    } finally {
        await backend.dispose();
    }
}

/** Every request at once; with `stagger`, request i starts (i * 23) % 60 ms late, so prompts meet generations. */
async function allInFlight(sequences: number, list: GenerateRequest[], stagger = false): Promise<string[][]> {
    const backend = create(sequences);
    try {
        const delay = (index: number) => new Promise((resolve) => setTimeout(resolve, stagger ? (index * 23) % 60 : 0));
        const results = await Promise.all(list.map(async (request, index) => (await delay(index), backend.generate(request))));
        return results.map((result) => result.completions.map((completion) => completion.text));
    } finally {
        await backend.dispose();
    }
}

describe("LlamaCppBackend is reproducible under concurrency (shipped policy)", () => {
    for (const [label, sampling] of [
        ["temperature 0", { temperature: 0, topP: 1 }],
        ["temperature 0.8, top-p 0.95, fixed seeds", { temperature: 0.8, topP: 0.95 }],
    ] as const) {
        it(`${label}: the same texts one at a time and with 4 and 8 completions in flight`, async () => {
            const list = requests(sampling);
            const reference = await oneAtATime(list);
            if (sampling.temperature === 0) for (const siblings of reference) expect(new Set(siblings).size).toBe(1);
            expect(await allInFlight(4, list)).toEqual(reference);
            expect(await allInFlight(8, list)).toEqual(reference);
            expect(await allInFlight(8, list, true)).toEqual(reference);
        }, 300_000);
    }

    it("stress: many overlapping requests of different sizes, some aborted, never change a completion's text", async () => {
        const sampling = { temperature: 0.8, topP: 0.95 };
        const full = requests(sampling, 5);
        const reference = await oneAtATime(full);
        const backend = create(8);
        try {
            // 3 waves over the same prompts with staggered starts and n from 1 to 5 (completion i uses seed + i, so a
            // smaller n is a prefix of the reference); every third request is aborted mid-generation.
            const calls: Promise<{ index: number; n: number; abort: boolean; outcome: PromiseSettledResult<string[]> }>[] = [];
            for (let wave = 0; wave < 3; wave += 1) {
                for (const [index, request] of full.entries()) {
                    const n = 1 + ((index + wave) % 5);
                    const controller = new AbortController();
                    const abort = (index + wave) % 3 === 0;
                    calls.push(
                        (async () => {
                            await new Promise((resolve) => setTimeout(resolve, ((index * 37 + wave * 11) % 50) + wave * 150));
                            if (abort) setTimeout(() => controller.abort(), 15);
                            const [outcome] = await Promise.allSettled([
                                backend.generate({ ...request, n, signal: controller.signal }).then((result) => result.completions.map((completion) => completion.text)),
                            ]);
                            return { index, n, abort, outcome: outcome as PromiseSettledResult<string[]> };
                        })(),
                    );
                }
            }
            let aborted = 0;
            for (const { index, n, abort, outcome } of await Promise.all(calls)) {
                if (outcome.status === "fulfilled") expect(outcome.value).toEqual(reference[index]?.slice(0, n));
                else {
                    expect(abort).toBe(true);
                    expect(outcome.reason).toMatchObject({ code: "ABORTED" });
                    aborted += 1;
                }
            }
            expect(aborted).toBeGreaterThan(0);
            // after the aborts, every slot still gives the one-at-a-time texts
            const after = await Promise.all(full.map((request) => backend.generate(request)));
            expect(after.map((result) => result.completions.map((completion) => completion.text))).toEqual(reference);
        } finally {
            await backend.dispose();
        }
    }, 300_000);

    it("defaults to as many single-sequence contexts as the CPUs run at the given threads, at most 4", () => {
        expect(defaultParallelSequences(1, 2)).toBe(2);
        expect(defaultParallelSequences(1, 1)).toBe(1);
        expect(defaultParallelSequences(2, 2)).toBe(1);
        expect(defaultParallelSequences(4, 3)).toBe(1);
        expect(defaultParallelSequences(1, 16)).toBe(4);
        expect(defaultParallelSequences(8, 16)).toBe(2);
        expect(create(3).sequences).toBe(3);
        expect(new LlamaCppBackend({ modelPath: MODEL, threads: 1 }).sequences).toBe(defaultParallelSequences(1));
    });
});


describe("rstar search with the shipped models is reproducible", () => {
    it("gives byte-identical trees and answers at --concurrency 1 (twice), 4 and 8", async () => {
        const dir = mkdtempSync(join(tmpdir(), "rstar-llama-repro-"));
        const run = async (name: string, concurrency: number) => {
            const out = join(dir, name);
            const args = ["search", "--dataset", "models/heldout/test.jsonl", "--limit", "4", "--preset", "bootstrap", "--prompt", "sft"];
            const result = await rstar([...args, "--rollouts", "2", "--candidates", "4", "--threads", "1", "--concurrency", String(concurrency), "--out", out, "--quiet", "--json"]);
            expect(result.stderr).toBe("");
            expect(result.code).toBe(0);
            const { trees, results } = runOutputs(out);
            return { trees: JSON.stringify(trees), results: JSON.stringify(results) };
        };
        const first = await run("c1", 1);
        expect(JSON.parse(first.results)).toHaveLength(4);
        expect(await run("c1-again", 1)).toEqual(first);
        expect(await run("c4", 4)).toEqual(first);
        expect(await run("c8", 8)).toEqual(first);
    }, 600_000);
});
