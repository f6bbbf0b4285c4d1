import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { register } from "../../src/cli/commands/train.js";
import { describeHeldout, describeTrainEvent } from "../../src/train/index.js";
import { runInProcess } from "../support/cli.js";
import { trainingPython } from "./support.js";

/** Runs `rstar train ...` in process, as src/cli/main.ts wires it; returns stdout, stderr and the exit code. */
const cli = (args: string[]) => runInProcess(register, args);

const dirs: string[] = [];
afterEach(async () => {
    await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), "rstar-train-cli-"));
    dirs.push(dir);
    return dir;
}

describe("rstar train", () => {
    it("documents both commands in --help", async () => {
        const sft = await cli(["train", "sft", "--help"]);
        expect(sft.code).toBe(0);
        expect(sft.stdout).toContain("--data <file>");
        expect(sft.stdout).toContain("Exit codes");
        const ppm = await cli(["train", "ppm", "--help"]);
        expect(ppm.code).toBe(0);
        expect(ppm.stdout).toContain("--pairs <file>");
        expect(ppm.stdout).toContain("value_head.safetensors");
        const train = await cli(["train", "--help"]);
        expect(train.stdout).toMatch(/sft[\s\S]*ppm[\s\S]*eval-ppm/);
        const evalPpm = await cli(["train", "eval-ppm", "--help"]);
        expect(evalPpm.code).toBe(0);
        expect(evalPpm.stdout).toContain("--ppm <dir>");
        expect(evalPpm.stdout).toContain("final_answer");
    });

    it("exits 2 on a missing input file, a bad flag or a --base without a checkpoint", async () => {
        const dir = await tempDir();
        const missing = await cli(["train", "sft", "--data", join(dir, "nope.jsonl"), "--out", join(dir, "out")]);
        expect(missing.code).toBe(2);
        expect(missing.stderr).toContain("nope.jsonl");
        const badFlag = await cli(["train", "sft", "--data", join(dir, "nope.jsonl"), "--out", dir, "--epochs", "-1"]);
        expect(badFlag.code).toBe(2);
        await writeFile(join(dir, "pairs.jsonl"), "{}\n");
        const noBase = await cli(["train", "ppm", "--pairs", join(dir, "pairs.jsonl"), "--base", dir, "--out", join(dir, "out")]);
        expect(noBase.code).toBe(2);
        expect(noBase.stderr).toContain("checkpoint.pt");
    });

    it("exits 3 when no Python imports torch", async () => {
        const dir = await tempDir();
        await writeFile(join(dir, "sft.jsonl"), JSON.stringify({ query: "q", response: "r" }) + "\n");
        const saved = process.env["RSTAR_PYTHON"];
        process.env["RSTAR_PYTHON"] = join(dir, "no-such-python");
        try {
            const result = await cli(["train", "sft", "--data", join(dir, "sft.jsonl"), "--out", join(dir, "out")]);
            expect(result.code).toBe(3);
            expect(result.stderr).toContain("torch");
        } finally {
            if (saved === undefined) delete process.env["RSTAR_PYTHON"];
            else process.env["RSTAR_PYTHON"] = saved;
        }
    });

    it.skipIf(trainingPython() === null)("exits 2 when the data has no usable record, naming the malformed lines", async () => {
        const dir = await tempDir();
        await writeFile(join(dir, "sft.jsonl"), 'not json\n{"query": "only a query"}\n');
        const result = await cli(["train", "sft", "--data", join(dir, "sft.jsonl"), "--out", join(dir, "out")]);
        expect(result.code).toBe(2);
        expect(result.stderr).toContain("sft.jsonl:1: not JSON");
        expect(result.stderr).toContain("sft.jsonl:2: missing field response");
        expect(result.stderr).toContain("no usable");
    });

    it("describes progress events in one line each", () => {
        expect(describeTrainEvent({ event: "step", step: 3, steps: 10, epoch: 1, loss: 1.23456, tokens_per_s: 900, elapsed_s: 4 })).toBe(
            "step 3/10 (epoch 1): loss 1.2346, 900 tokens/s, 4s",
        );
        expect(describeTrainEvent({ event: "eval", step: 10, accuracy: 0.8125, eval_loss: 0.5 })).toContain("held-out accuracy 81.3%");
        expect(describeTrainEvent({ event: "done" })).toBeNull();
        expect(describeTrainEvent({ event: "warning", message: "2 of 9 held-out problems also have training pairs" })).toBe("warning: 2 of 9 held-out problems also have training pairs");
        expect(describeTrainEvent({ event: "start", kind: "ppm", params: 1e6, train_pairs: 90, test_pairs: 10, train_problems: 45, test_problems: 5, split: "problem", steps: 6 })).toContain(
            "90 train / 10 held-out pairs (45 / 5 problems, split problem)",
        );
    });

    it("describes a held-out report overall and by kind, with sample sizes and intervals", () => {
        const none = { pairs: 0, problems: 0, correct: 0, accuracy: null, wilson95: null, bootstrap95: null };
        const lines = describeHeldout({
            pairs: 100, problems: 40, correct: 70, accuracy: 0.7, wilson95: [0.6042, 0.7811], bootstrap95: [0.6, 0.79],
            by_kind: { code_vs_code: { pairs: 80, problems: 40, correct: 52, accuracy: 0.65, wilson95: [0.5411, 0.7464], bootstrap95: [0.53, 0.76] }, code_vs_answer: { ...none, pairs: 20, problems: 12, correct: 18, accuracy: 0.9, wilson95: [0.699, 0.9721], bootstrap95: [0.75, 1] }, final_answer: none },
        });
        expect(lines).toEqual([
            "held-out pairwise accuracy: 70.0% of 100 pairs from 40 problems, 95% CI 60.4%-78.1% (by problem 60.0%-79.0%)",
            "  code vs code: 65.0% of 80 pairs from 40 problems, 95% CI 54.1%-74.6% (by problem 53.0%-76.0%)",
            "  code vs print/answer: 90.0% of 20 pairs from 12 problems, 95% CI 69.9%-97.2% (by problem 75.0%-100.0%)",
            "  correct vs wrong final answer: no pairs",
        ]);
    });
});
