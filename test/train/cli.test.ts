import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { register } from "../../src/cli/commands/train.js";
import { describeTrainEvent } from "../../src/train/index.js";
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
        expect(train.stdout).toMatch(/sft[\s\S]*ppm/);
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
    });
});
