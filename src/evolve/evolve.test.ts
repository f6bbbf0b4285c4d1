import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { DatasetProblem } from "../data/index.js";
import { configSchema, fillTemplate, loadEvolveConfig, mergeConfig, paperDefaults, syntheticPreset } from "./config.js";
import { generateDataset } from "../synth/index.js";
import { writeMisreadPairs } from "./misread-stage.js";
import { ppmHeldoutOf } from "./report.js";
import { policySampleProblems, questionsIn, sampleProblems } from "./sample.js";
import { evalModels, evolvePaths, misreadProblemOptions, mixedPpmPairs, mixedSftRecords, policySamplesArgs, policyServer, ppmTrainingPairs, roundStages, sftTrainingRecords, synthArgs } from "./stages.js";

const dir = mkdtempSync(join(tmpdir(), "rstar-evolve-unit-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function configFile(value: unknown): string {
    const path = join(dir, `c${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(path, JSON.stringify(value));
    return path;
}

describe("evolve config", () => {
    it("the presets are valid and carry the paper's per-round settings", () => {
        const paper = configSchema.parse(paperDefaults());
        expect(paper.rounds.map((r) => [r.search.preset, r.search.rollouts, r.search.guidance, r.search.unsolvedRollouts])).toEqual([
            ["bootstrap", 8, "terminal", []],
            ["sample", 16, "terminal", []],
            ["sample", 16, "ppm", []],
            ["sample", 16, "ppm", [64, 128]],
        ]);
        expect(paper.rounds.every((r) => r.sft.perProblem === 2 && r.ppm.init === "policy" && r.ppm.minMargin === 0.5 && r.ppm.minEditDistance === 20)).toBe(true);
        const synthetic = configSchema.parse(syntheticPreset());
        expect(synthetic.rounds.map((r) => r.policy.kind)).toEqual(["teacher", "teacher", "embedded", "embedded"]);
        expect(synthetic.rounds.map((r) => r.sft.init)).toEqual(["base", "previous", "previous", "previous"]);
        // The length curriculum: short problems for the teacher's round 1, long ones for its round 2, then every length.
        expect(synthetic.rounds.map((r) => r.problems.steps ?? "any")).toEqual(["2-6", "7-8", "any", "any"]);
        expect(synthetic.rounds.map((r) => r.ppm.policySamples?.samples ?? 0)).toEqual([0, 0, 8, 8]);
    });

    it("merges a file over the preset: objects key by key, arrays replace, roundDefaults into every round, a new kind replaces", () => {
        const merged = configSchema.parse(
            mergeConfig(paperDefaults(), {
                seed: 7,
                roundDefaults: { search: { concurrency: 32 }, sft: { trainer: { kind: "command", command: "train {data} {out}" } } },
                rounds: [{ search: { args: ["--candidates", "4"] } }, {}],
                eval: { methods: ["greedy"] },
            }),
        );
        expect(merged.seed).toBe(7);
        expect(merged.rounds).toHaveLength(2);
        expect(merged.rounds.map((r) => r.search.concurrency)).toEqual([32, 32]);
        expect(merged.rounds[0]?.search).toMatchObject({ preset: "bootstrap", rollouts: 8, args: ["--candidates", "4"] });
        expect(merged.rounds[1]?.sft.trainer).toEqual({ kind: "command", command: "train {data} {out}" });
        expect(merged.eval).toMatchObject({ methods: ["greedy"], splits: ["test", "ood"], limit: 200 });
    });

    it("passes the synthetic data's step ranges to rstar synth generate; the synthetic preset's train split spans 2-8 steps", () => {
        const loaded = loadEvolveConfig({ file: configFile({ data: { synth: { train: 10, test: 2, ood: 2, steps: "2-6", oodSteps: "7-8", trainSteps: "2-8" } } }), preset: "synthetic" });
        const args = synthArgs(loaded.config, "out") ?? [];
        expect(args.join(" ")).toContain("--steps 2-6 --ood-steps 7-8 --train-steps 2-8");
        expect((synthArgs(loadEvolveConfig({ preset: "synthetic" }).config, "out") ?? []).join(" ")).toContain("--train 4000 --test 200 --ood 200 --difficulty 3 --format jsonl --train-steps 2-8");
        expect(() => loadEvolveConfig({ file: configFile({ data: { synth: { train: 10, test: 2, ood: 2, trainSteps: "long" } } }), preset: "synthetic" })).toThrow(/trainSteps/);
    });

    it("names the file and field of a bad setting", () => {
        expect(() => loadEvolveConfig({ file: configFile({ rounds: [{ policy: { kind: "embedded" } }] }) })).toThrow(/field "rounds\.0\.policy\.kind": round 1 has no earlier policy/);
        expect(() => loadEvolveConfig({ file: configFile({ roundDefaults: { sft: { format: "trl" } } }) })).toThrow(/field "rounds\.0\.sft\.format": rstar train sft reads the official format/);
        expect(() => loadEvolveConfig({ file: configFile({ rounds: [{ search: { rollouts: 0 } }] }) })).toThrow(/field "rounds\.0\.search\.rollouts"/);
        expect(() => loadEvolveConfig({ file: configFile({ eval: { methods: ["maj8"] } }) })).toThrow(/field "eval\.methods\.0": a method is greedy/);
        expect(() => loadEvolveConfig({ preset: "nope" })).toThrow(/unknown preset "nope"/);
    });

    it("passes a teacher's error rates to rstar teacher serve, and refuses rates that cannot be drawn", () => {
        const teacher = (policy: object) => configFile({ rounds: [{ policy: { kind: "teacher", ...policy } }] });
        const loaded = loadEvolveConfig({ file: teacher({ errorRates: { repeatFact: 0.025, skipFact: 0.01 }, errorScale: 2 }), preset: "synthetic" });
        const server = policyServer(loaded.config.rounds[0]!.policy, null, {}, "rounds.0.policy");
        expect(server.start?.command).toEqual({ kind: "rstar", args: ["teacher", "serve", "--port", "{port}", "--skip-fact", "0.01", "--repeat-fact", "0.025", "--error-scale", "2"] });
        const plain = policyServer(loadEvolveConfig({ preset: "synthetic" }).config.rounds[0]!.policy, null, {}, "rounds.0.policy");
        expect(plain.start?.command).toEqual({ kind: "rstar", args: ["teacher", "serve", "--port", "{port}"] });
        expect(() => loadEvolveConfig({ file: teacher({ errorRates: { repeatFacts: 0.1 } }), preset: "synthetic" })).toThrow(/field "rounds\.0\.policy/);
        expect(() => loadEvolveConfig({ file: teacher({ errorRates: { repeatFact: 1.5 } }), preset: "synthetic" })).toThrow(/rounds\.0\.policy\.errorRates\.repeatFact/);
        expect(() => loadEvolveConfig({ file: teacher({ errorRates: { repeatFact: 0.5 }, errorScale: 3 }), preset: "synthetic" })).toThrow(/field "rounds\.0\.policy\.errorRates": the teacher's error rates .* sum to 1\.965/);
    });

    it("fills templates and refuses a placeholder a stage does not have", () => {
        expect(fillTemplate("a {data} b {out}", { data: "x.jsonl", out: "o" }, "t")).toBe("a x.jsonl b o");
        expect(() => fillTemplate("{init}", { data: "x" }, "rounds.0.sft.trainer")).toThrow(/rounds\.0\.sft\.trainer: placeholder \{init\} has no value/);
    });
});

describe("problem sampling per round", () => {
    const train: DatasetProblem[] = Array.from({ length: 10 }, (_, i) => ({ position: i, line: i + 1, question: `q${i}`, answer: String(i), record: { question: `q${i}` } }));
    const config = (sample: "all" | "window" | "random" | "unsolved", count: number | null) => {
        const c = paperDefaults();
        for (const round of c.rounds) round.problems = { sample, count };
        return c;
    };
    const questions = (list: DatasetProblem[]) => list.map((p) => p.question);

    it("window: disjoint slices round after round, wrapping past the end", () => {
        expect(questions(sampleProblems(config("window", 4), 1, train, new Set(), new Set()))).toEqual(["q0", "q1", "q2", "q3"]);
        expect(questions(sampleProblems(config("window", 4), 2, train, new Set(), new Set()))).toEqual(["q4", "q5", "q6", "q7"]);
        expect(questions(sampleProblems(config("window", 4), 3, train, new Set(), new Set()))).toEqual(["q8", "q9", "q0", "q1"]);
        expect(questions(sampleProblems(config("window", 4), 4, train, new Set(), new Set()))).toEqual(["q2", "q3", "q4", "q5"]);
    });

    it("problems.steps: a length curriculum; each window takes the problems in its range no earlier window took", () => {
        // q0..q9 have 2, 7, 3, 8, 4, 7, 5, 8, 6, 2 steps.
        const steps = [2, 7, 3, 8, 4, 7, 5, 8, 6, 2];
        const withSteps = train.map((p, i) => ({ ...p, record: { ...p.record, steps: steps[i] } }));
        const c = paperDefaults();
        c.rounds[0]!.problems = { sample: "window", count: 3, steps: "2-6" };
        c.rounds[1]!.problems = { sample: "window", count: 2, steps: "7-8" };
        c.rounds[2]!.problems = { sample: "window", count: 3 };
        c.rounds[3]!.problems = { sample: "window", count: 4, steps: "7-8" };
        const round = (n: number) => questions(sampleProblems(c, n, withSteps, new Set(), new Set()));
        expect(round(1)).toEqual(["q0", "q2", "q4"]);
        expect(round(2)).toEqual(["q1", "q3"]);
        expect(round(3)).toEqual(["q5", "q6", "q7"]); // no range: the first problems no earlier window took
        expect(round(4)).toEqual(["q1", "q3", "q5", "q7"]); // every 7-8-step problem taken once: wraps in file order
        c.rounds[3]!.problems = { sample: "random", count: 2, steps: "2-2" };
        expect(round(4).sort()).toEqual(["q0", "q9"]);
        const missing = withSteps.map((p, i) => (i === 4 ? { ...p, record: { question: p.question } } : p));
        expect(() => sampleProblems(c, 1, missing, new Set(), new Set())).toThrow(/line 5: field "steps" is missing.*rounds\.0\.problems\.steps \(2-6\)/);
    });

    it("problems.steps must be a LOW-HIGH range", () => {
        const bad = (steps: string) => () => configSchema.parse({ ...paperDefaults(), rounds: [{ ...paperDefaults().rounds[0]!, problems: { sample: "all", count: null, steps } }] });
        expect(bad("6-2")).toThrow(/low end/);
        expect(bad("2..6")).toThrow(/LOW-HIGH/);
        expect(bad("2-6")).not.toThrow();
    });

    it("random: seeded per round, in file order; all: the first count; unsolved: searched earlier and never solved", () => {
        const a = sampleProblems(config("random", 4), 2, train, new Set(), new Set());
        expect(questions(a)).toEqual(questions(sampleProblems(config("random", 4), 2, train, new Set(), new Set())));
        expect(questions(a)).not.toEqual(questions(sampleProblems(config("random", 4), 3, train, new Set(), new Set())));
        expect(a.map((p) => p.position)).toEqual([...a.map((p) => p.position)].sort((x, y) => x - y));
        expect(questions(sampleProblems(config("all", null), 1, train, new Set(), new Set()))).toHaveLength(10);
        expect(questions(sampleProblems(config("unsolved", 2), 2, train, new Set(["q1"]), new Set(["q1", "q2", "q5", "q7"])))).toEqual(["q2", "q5"]);
    });
});

describe("PPM training pairs across rounds (ppm.earlierPairs)", () => {
    const loaded = { config: configSchema.parse(syntheticPreset()), baseDir: dir, source: "synthetic" };
    const paths = evolvePaths(loaded, "/runs/x");
    const files: Record<string, string> = { "/runs/x/round-1/pairs.jsonl": "t1\nt2\n", "/runs/x/round-2/pairs.jsonl": "p1\n", "/runs/x/round-3/pairs.jsonl": "q1\nq2" };
    const read = (path: string) => files[path] ?? null;

    it("the synthetic preset mixes: this round's own pairs (the teacher's round 2 once, the policy's 4 times), then every earlier round's, in round order", () => {
        expect(ppmTrainingPairs(loaded.config, 1, paths)).toBe("/runs/x/round-1/pairs.jsonl");
        expect(ppmTrainingPairs(loaded.config, 3, paths)).toBe("/runs/x/round-3/ppm-pairs.jsonl");
        expect(mixedPpmPairs(loaded.config, 2, paths, read)).toBe("p1\nt1\nt2\n");
        expect(mixedPpmPairs(loaded.config, 3, paths, read)).toBe("q1\nq2\n".repeat(4) + "t1\nt2\np1\n");
    });

    it("the paper's preset trains each round's PPM on that round's pairs only", () => {
        const paper = configSchema.parse(paperDefaults());
        expect(paper.rounds.every((r) => r.ppm.earlierPairs === "none" && r.ppm.ownPairsRepeat === 1)).toBe(true);
        expect(ppmTrainingPairs(paper, 3, paths)).toBe("/runs/x/round-3/pairs.jsonl");
    });
});

describe("SFT records across rounds (sft.earlierRecords)", () => {
    const files: Record<string, string> = { "/runs/x/round-1/sft.jsonl": "t1\nt2\n", "/runs/x/round-2/sft.jsonl": "p1\n", "/runs/x/round-3/sft.jsonl": "q1\nq2" };
    const read = (path: string) => files[path] ?? null;

    it("\"all\": from round 2 the policy trains on its own records ownRecordsRepeat times, then every earlier round's, in round order", () => {
        const loaded = loadEvolveConfig({ file: configFile({ roundDefaults: { sft: { earlierRecords: "all", ownRecordsRepeat: 3 } } }), preset: "synthetic" });
        const paths = evolvePaths(loaded, "/runs/x");
        expect(sftTrainingRecords(loaded.config, 1, paths)).toBe("/runs/x/round-1/sft.jsonl");
        expect(sftTrainingRecords(loaded.config, 3, paths)).toBe("/runs/x/round-3/sft-mix.jsonl");
        expect(mixedSftRecords(loaded.config, 2, paths, read)).toBe("p1\n".repeat(3) + "t1\nt2\n");
        expect(mixedSftRecords(loaded.config, 3, paths, read)).toBe("q1\nq2\n".repeat(3) + "t1\nt2\np1\n");
    });

    it("the paper's preset trains each round's policy on that round's records only; a bad value is named by field", () => {
        const paper = configSchema.parse(paperDefaults());
        expect(paper.rounds.every((r) => r.sft.earlierRecords === "none" && r.sft.ownRecordsRepeat === 1)).toBe(true);
        expect(sftTrainingRecords(paper, 3, evolvePaths({ config: paper, baseDir: dir, source: "paper" }, "/runs/x"))).toBe("/runs/x/round-3/sft.jsonl");
        expect(() => loadEvolveConfig({ file: configFile({ roundDefaults: { sft: { earlierRecords: "some" } } }), preset: "paper" })).toThrow(/rounds\.0\.sft\.earlierRecords/);
    });
});

describe("PPM pretraining on misread pairs (ppm.misreadPretrain)", () => {
    const pretrain = { problems: 120, heldOut: 10, maxStepPairs: 60, trainer: { kind: "rstar" } };

    it("is off in both presets; on, it pretrains after train-sft and before train-ppm, and needs synthetic data", () => {
        for (const preset of [paperDefaults(), syntheticPreset()]) {
            const config = configSchema.parse(preset);
            expect(config.rounds.every((r) => (r.ppm.misreadPretrain ?? null) === null)).toBe(true);
            const paths = evolvePaths({ config, baseDir: dir, source: "preset" }, "/runs/x");
            for (let n = 1; n <= config.rounds.length; n += 1) expect(roundStages(config, n, paths).map((s) => s.name)).not.toContain("pretrain-ppm");
        }
        const on = loadEvolveConfig({ file: configFile({ rounds: [{}, {}, { ppm: { misreadPretrain: { problems: 100, trainer: { kind: "rstar" } } } }] }), preset: "synthetic" }).config;
        expect(on.rounds[2]?.ppm.misreadPretrain).toEqual({ problems: 100, heldOut: 600, maxStepPairs: null, trainer: { kind: "rstar", args: [] } });
        const names = roundStages(on, 3, evolvePaths({ config: on, baseDir: dir, source: "synthetic" }, "/runs/s")).map((s) => s.name);
        expect(names.slice(names.indexOf("train-sft"), names.indexOf("train-ppm") + 1)).toEqual(["train-sft", "misread-pairs", "pretrain-ppm", "train-ppm"]);
        expect(() => loadEvolveConfig({ file: configFile({ rounds: [{}, { ppm: { misreadPretrain: { problems: 10, trainer: { kind: "rstar" } } } }] }) })).toThrow(/field "rounds\.1\.ppm\.misreadPretrain"/);
        expect(() => loadEvolveConfig({ file: configFile({ rounds: [{}, { ppm: { misreadPretrain: { problems: 0, trainer: { kind: "rstar" } } } }] }), preset: "synthetic" })).toThrow(/field "rounds\.1\.ppm\.misreadPretrain\.problems"/);
    });

    it("writes the same pairs on a rerun, from new problems none of whose questions is in test or ood, the held-out ones apart", async () => {
        const config = syntheticPreset();
        (config.rounds[2] as { ppm: Record<string, unknown> }).ppm["misreadPretrain"] = pretrain;
        const parsed = configSchema.parse(config);
        const out = join(dir, "misreads-run");
        const paths = evolvePaths({ config: parsed, baseDir: dir, source: "synthetic" }, out);
        mkdirSync(join(out, "data"), { recursive: true });
        mkdirSync(paths.round(3).dir, { recursive: true });
        // One of the problems the stage will generate is a test problem: the stage must leave it out.
        const generated = generateDataset(misreadProblemOptions(parsed, 3)).train;
        const clash = generated[4]!;
        writeFileSync(paths.data.test as string, JSON.stringify({ question: clash.question, answer: clash.answer }) + "\n");
        writeFileSync(paths.data.ood as string, JSON.stringify({ question: "Something else entirely?", answer: "1" }) + "\n");
        const made = await writeMisreadPairs(parsed, 3, paths);
        expect(made).toMatchObject({ problems: 119, excluded: 1, stepPairs: 60, heldOutProblems: 10 });
        const read = (path: string) => readFileSync(path, "utf8");
        const pairs = read(paths.round(3).misreadPairs).trim().split("\n");
        const heldOut = read(paths.round(3).misreadHeldOut).trim().split("\n");
        expect(pairs).toHaveLength(made.pairs);
        expect(made.pairs).toBe(60 + made.solutionPairs);
        expect(heldOut).toHaveLength(made.heldOutPairs);
        const questionOf = (line: string) => (JSON.parse(line) as { prompt: string }).prompt.split("\n")[1];
        expect([...pairs, ...heldOut].map(questionOf)).not.toContain(clash.question);
        const trained = new Set(pairs.map(questionOf));
        expect(heldOut.filter((line) => trained.has(questionOf(line)))).toEqual([]);
        const before = read(paths.round(3).misreadPairs);
        await writeMisreadPairs(parsed, 3, paths);
        expect(read(paths.round(3).misreadPairs)).toBe(before);
        // a round without ppm.misreadPretrain has no such stage to run
        expect(() => misreadProblemOptions(parsed, 4)).toThrow(/round 4 has no ppm.misreadPretrain/);
    });
});

describe("PPM pairs from the policy's own best-of-N samples (ppm.policySamples)", () => {
    const train: DatasetProblem[] = Array.from({ length: 20 }, (_, i) => ({ position: i, line: i + 1, question: `q${i}`, answer: String(i), record: { question: `q${i}` } }));

    it("is off in the paper's preset (no stage, no key in the resolved config) and on in the synthetic preset's policy rounds (3-4)", () => {
        const paper = configSchema.parse(paperDefaults());
        expect(paper.rounds.every((r) => r.ppm.policySamples === undefined)).toBe(true);
        expect(JSON.stringify(paper)).not.toContain("policySamples");
        const paths = evolvePaths({ config: paper, baseDir: dir, source: "paper" }, "/runs/p");
        expect(roundStages(paper, 2, paths).map((s) => s.name)).not.toContain("policy-samples");
        const synthetic = configSchema.parse(syntheticPreset());
        expect(synthetic.rounds.map((r) => r.ppm.policySamples)).toEqual([null, null, ...[3, 4].map(() => ({ problems: 200, samples: 8, repeat: 2, args: ["--max-tokens", "256"] }))]);
        const names = roundStages(synthetic, 3, evolvePaths({ config: synthetic, baseDir: dir, source: "synthetic" }, "/runs/s")).map((s) => s.name);
        expect(names.slice(0, 6)).toEqual(["sample", "search", "policy-samples", "extract-sft", "extract-ppm", "extract-policy-samples"]);
        for (const round of [1, 2]) expect(roundStages(synthetic, round, evolvePaths({ config: synthetic, baseDir: dir, source: "synthetic" }, "/runs/s")).map((s) => s.name)).not.toContain("policy-samples");
    });

    it("validates the field by name, and a file can turn it on or off per round", () => {
        expect(() => loadEvolveConfig({ file: configFile({ rounds: [{}, { ppm: { policySamples: { problems: 0, samples: 8 } } }] }) })).toThrow(/field "rounds\.1\.ppm\.policySamples\.problems"/);
        expect(() => loadEvolveConfig({ file: configFile({ rounds: [{}, { ppm: { policySamples: { problems: 10 } } }] }) })).toThrow(/field "rounds\.1\.ppm\.policySamples\.samples"/);
        expect(() => loadEvolveConfig({ file: configFile({ rounds: [{}, { ppm: { policySamples: { problems: 10, samples: 8, weight: 2 } } }] }) })).toThrow(/field "rounds\.1\.ppm\.policySamples"/);
        const on = loadEvolveConfig({ file: configFile({ rounds: [{}, { ppm: { policySamples: { problems: 10, samples: 4 } } }] }) }).config;
        expect(on.rounds[1]?.ppm.policySamples).toEqual({ problems: 10, samples: 4, repeat: 1, args: [] });
        const off = loadEvolveConfig({ file: configFile({ roundDefaults: { ppm: { policySamples: null } } }), preset: "synthetic" }).config;
        expect(off.rounds.every((r) => r.ppm.policySamples === null)).toBe(true);
    });

    it("samples train problems outside the round's search, seeded per round, in file order", () => {
        const config = syntheticPreset();
        for (const round of config.rounds) if (round.ppm.policySamples) round.ppm.policySamples.problems = 5;
        const searched = new Set(["q0", "q1", "q2", "q3", "q4", "q5"]);
        const a = policySampleProblems(config, 3, train, searched);
        expect(a).toHaveLength(5);
        expect(a.every((p) => !searched.has(p.question))).toBe(true);
        expect(a.map((p) => p.position)).toEqual([...a.map((p) => p.position)].sort((x, y) => x - y));
        expect(policySampleProblems(config, 3, train, searched).map((p) => p.question)).toEqual(a.map((p) => p.question));
        expect(policySampleProblems(config, 4, train, searched).map((p) => p.question)).not.toEqual(a.map((p) => p.question));
        // Fewer when the search took almost every problem; none when it took all.
        expect(policySampleProblems(config, 3, train, new Set(train.slice(0, 18).map((p) => p.question))).map((p) => p.question)).toEqual(["q18", "q19"]);
        expect(policySampleProblems(config, 3, train, new Set(train.map((p) => p.question)))).toEqual([]);
    });

    it("reads the round's searched questions from its problems file; an empty one (nothing to search) excludes none", async () => {
        const problems = join(dir, "problems-round.jsonl");
        writeFileSync(problems, '{"question":"q1","answer":"1"}\n{"question":"q3","answer":"3"}\n');
        expect([...(await questionsIn(problems))]).toEqual(["q1", "q3"]);
        writeFileSync(problems, "");
        expect(await questionsIn(problems)).toEqual(new Set());
        expect(await questionsIn(join(dir, "missing.jsonl"))).toEqual(new Set());
    });

    it("runs best-of-N with the gold answer as terminal reward and the sampling's flags", () => {
        const config = configSchema.parse(syntheticPreset());
        const args = policySamplesArgs(config, 3, "/r/p.jsonl", "/r/out", { url: "http://127.0.0.1:9/v1", model: "policy" }, false);
        expect(args.join(" ")).toBe(`search --dataset /r/p.jsonl --out /r/out --preset best-of-n --samples 8 --seed 1503 --prompt sft --concurrency 8 --policy-url http://127.0.0.1:9/v1 --model policy --terminal-reward ground-truth --no-leaf-value --max-tokens 256 --json`);
        expect(policySamplesArgs(config, 3, "/r/p.jsonl", "/r/out", { url: "u", model: "policy" }, true, { url: "redis://h:1", workerModels: "/r/wm.json" }).join(" ")).toContain("--queue redis://h:1 --worker-models /r/wm.json --model policy --terminal-reward ground-truth --no-leaf-value --max-tokens 256 --json --resume");
        expect(() => policySamplesArgs(config, 2, "p", "o", { url: "u", model: "m" }, false)).toThrow(/round 2 has no ppm\.policySamples/);
        // The prompt of the round's search preset: a round-1 bootstrap model gets the few-shot prompt.
        const bootstrap = loadEvolveConfig({ file: configFile({ rounds: [{ ppm: { policySamples: { problems: 10, samples: 4, args: ["--temperature", "0.7"] } } }] }) }).config;
        expect(policySamplesArgs(bootstrap, 1, "p", "o", { url: "u", model: "m" }, false).join(" ")).toBe("search --dataset p --out o --preset best-of-n --samples 4 --seed 501 --prompt bootstrap --concurrency 8 --policy-url u --model m --terminal-reward ground-truth --no-leaf-value --temperature 0.7 --json");
    });

    it("mixes the sample pairs after the round's own (own x ownPairsRepeat, samples x repeat), then the earlier rounds'", () => {
        const files: Record<string, string> = { "/runs/x/round-1/pairs.jsonl": "t1\n", "/runs/x/round-2/pairs.jsonl": "p1\n", "/runs/x/round-2/policy-sample-pairs.jsonl": "b1\nb2", "/runs/x/round-3/pairs.jsonl": "r1\n", "/runs/x/round-3/policy-sample-pairs.jsonl": "c1" };
        const read = (path: string) => files[path] ?? null;
        const synthetic = configSchema.parse(syntheticPreset());
        const paths = evolvePaths({ config: synthetic, baseDir: dir, source: "synthetic" }, "/runs/x");
        expect(mixedPpmPairs(synthetic, 3, paths, read)).toBe("r1\n".repeat(4) + "c1\n".repeat(2) + "t1\np1\n");
        // With the paper's pairs (earlierPairs "none", ownPairsRepeat 1), the samples alone make the mix.
        const paper = loadEvolveConfig({ file: configFile({ rounds: [{}, { ppm: { policySamples: { problems: 10, samples: 4, repeat: 3 } } }] }) }).config;
        expect(ppmTrainingPairs(paper, 2, paths)).toBe("/runs/x/round-2/ppm-pairs.jsonl");
        expect(ppmTrainingPairs(paper, 1, paths)).toBe("/runs/x/round-1/pairs.jsonl");
        expect(mixedPpmPairs(paper, 2, paths, read)).toBe("p1\n" + "b1\nb2\n".repeat(3));
    });
});

describe("round report", () => {
    it("lifts the PPM trainer's problem-disjoint held-out accuracy by kind into the report", () => {
        const figure = (accuracy: number, pairs: number) => ({ pairs, problems: 3, correct: Math.round(accuracy * pairs), accuracy, wilson95: [0.1, 0.9], bootstrap95: [0.2, 0.8] });
        const metrics = { accuracy: 0.6, heldout: { ...figure(0.6, 10), by_kind: { code_vs_code: figure(0.5, 4), final_answer: figure(0.75, 4), code_vs_answer: { pairs: 0, problems: 0, correct: 0, accuracy: null, wilson95: null } } } };
        expect(ppmHeldoutOf(metrics)).toEqual({
            accuracy: 0.6, pairs: 10, problems: 3, wilson95: [0.1, 0.9],
            byKind: {
                code_vs_code: { accuracy: 0.5, pairs: 4, problems: 3, wilson95: [0.1, 0.9] },
                final_answer: { accuracy: 0.75, pairs: 4, problems: 3, wilson95: [0.1, 0.9] },
                code_vs_answer: { accuracy: null, pairs: 0, problems: 0, wilson95: null },
            },
        });
        // A PPM trained on too few pairs to hold any out, or by a command trainer: no figure rather than a wrong one.
        expect(ppmHeldoutOf({ accuracy: null })).toBeNull();
        expect(ppmHeldoutOf(null)).toBeNull();
    });
});

describe("local GGUF policies on the GPU (kinds embedded and gguf: gpu, gpuLayers)", () => {
    it("passes --gpu and --gpu-layers to rstar serve, and the config rejects an unknown GPU API", () => {
        const config = loadEvolveConfig({ file: configFile({ serve: { policy: { kind: "embedded", gpu: "cuda", gpuLayers: 20 }, reward: { kind: "embedded" } } }), preset: "synthetic" }).config;
        const server = policyServer(config.serve.policy, "/runs/round-1/policy", {}, "serve.policy");
        expect(server.start?.command).toEqual({ kind: "rstar", args: ["serve", "--policy", join("/runs/round-1/policy", "model.gguf"), "--port", "{port}", "--model-name", "policy", "--gpu", "cuda", "--gpu-layers", "20"] });
        expect(() => loadEvolveConfig({ file: configFile({ serve: { policy: { kind: "embedded", gpu: "tpu" }, reward: { kind: "embedded" } } }), preset: "synthetic" })).toThrow(/serve\.policy\.gpu/);
    });

    it("a local GGUF (kind gguf, e.g. the round-1 bootstrap policy): served by rstar serve --policy PATH, the path resolved against the config's folder", () => {
        const config = loadEvolveConfig({ file: configFile({ serve: { policy: { kind: "gguf", path: "models/qwen-instruct.gguf", gpu: "auto" }, reward: { kind: "embedded" } } }), preset: "synthetic" }).config;
        expect(config.serve.policy).toEqual({ kind: "gguf", path: join(dir, "models", "qwen-instruct.gguf"), gpu: "auto" });
        const server = policyServer(config.serve.policy, null, {}, "rounds.0.policy");
        expect(server.start?.command).toEqual({ kind: "rstar", args: ["serve", "--policy", join(dir, "models", "qwen-instruct.gguf"), "--port", "{port}", "--model-name", "policy", "--gpu", "auto"] });
    });
});

describe("evaluation methods per round (eval.methodRounds)", () => {
    const evalStages = (config: ReturnType<typeof syntheticPreset>, n: number) =>
        roundStages(config, n, evolvePaths({ config, baseDir: dir, source: "test" }, "/runs/m")).filter((s) => s.kind === "eval").map((s) => s.name);

    it("the synthetic preset evaluates greedy after every round; maj@8, MCTS+PPM and the teacher's MCTS+PPM on the harder split after the last", () => {
        const synthetic = configSchema.parse(syntheticPreset());
        const greedy = ["eval-test-greedy", "eval-ood-greedy"];
        const all = ["eval-test-greedy", "eval-test-maj@8", "eval-test-mcts", "eval-ood-greedy", "eval-ood-maj@8", "eval-ood-mcts", "eval-ood-baseline-mcts"];
        expect([1, 2, 3, 4].map((n) => evalStages(synthetic, n))).toEqual([greedy, greedy, greedy, all]);
        // "last" follows the config: a two-round run over the preset evaluates everything after round 2.
        const two = loadEvolveConfig({ file: configFile({ rounds: [{}, {}] }), preset: "synthetic" }).config;
        expect(evalStages(two, 2)).toEqual(all);
        // --queue: the workers load the round's PPM only for a round that evaluates with it.
        expect([1, 2, 3, 4].map((n) => evalModels(synthetic, n, "/p", "/ppm").reward !== null)).toEqual([false, false, false, true]);
    });

    it("the paper's preset evaluates every method after every round, and its resolved config has no methodRounds key", () => {
        const paper = configSchema.parse(paperDefaults());
        expect(JSON.stringify(paper)).not.toContain("methodRounds");
        // Its data names a test split only.
        expect([1, 2, 3, 4].map((n) => evalStages(paper, n))).toEqual([1, 2, 3, 4].map(() => ["eval-test-greedy", "eval-test-maj@8", "eval-test-mcts"]));
    });

    it("eval.baseline: round 1's bootstrap policy evaluated after the last round (or the rounds named), after the round's own evaluations", () => {
        const withBaseline = (baseline: unknown) => loadEvolveConfig({ file: configFile({ eval: { methods: ["greedy"], splits: ["test", "ood"], methodRounds: {}, baseline } }), preset: "synthetic" }).config;
        const last = withBaseline({ methods: ["mcts", "greedy"], splits: ["ood"] });
        expect([1, 2, 3, 4].map((n) => evalStages(last, n))).toEqual([
            ["eval-test-greedy", "eval-ood-greedy"],
            ["eval-test-greedy", "eval-ood-greedy"],
            ["eval-test-greedy", "eval-ood-greedy"],
            ["eval-test-greedy", "eval-ood-greedy", "eval-ood-baseline-mcts", "eval-ood-baseline-greedy"],
        ]);
        const stages = roundStages(last, 4, evolvePaths({ config: last, baseDir: dir, source: "test" }, "/runs/m"));
        expect(stages.find((s) => s.name === "eval-ood-baseline-mcts")).toMatchObject({ kind: "eval", split: "ood", method: "mcts", baseline: true });
        expect(evalStages(withBaseline({ methods: ["greedy"], splits: ["test"], rounds: [1, "last"] }), 1)).toContain("eval-test-baseline-greedy");
        expect(JSON.stringify(configSchema.parse(paperDefaults()))).not.toContain("baseline");
        // null turns the synthetic preset's baseline off.
        expect(evalStages(withBaseline(null), 4)).toEqual(["eval-test-greedy", "eval-ood-greedy"]);
        expect(() => withBaseline({ methods: ["greedy"], splits: ["test"], rounds: [7] })).toThrow(/field "eval\.baseline\.rounds\.0": round 7 does not exist/);
        expect(() => withBaseline({ methods: [], splits: ["test"] })).toThrow(/field "eval\.baseline\.methods"/);
    });

    it("names the field of a round that does not exist or a bad method", () => {
        expect(() => loadEvolveConfig({ file: configFile({ eval: { methodRounds: { mcts: [1, 5] } } }), preset: "synthetic" })).toThrow(/field "eval\.methodRounds\.mcts\.1": round 5 does not exist \(the config has 4/);
        expect(() => loadEvolveConfig({ file: configFile({ eval: { methodRounds: { mcts: ["first"] } } }), preset: "synthetic" })).toThrow(/field "eval\.methodRounds\.mcts\.0"/);
        expect(() => loadEvolveConfig({ file: configFile({ eval: { methodRounds: { maj8: [1] } } }), preset: "synthetic" })).toThrow(/field "eval\.methodRounds/);
    });
});
