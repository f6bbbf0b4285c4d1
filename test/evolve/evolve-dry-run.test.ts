import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

/** `rstar evolve --dry-run` on the shipped real-scale example (remote bootstrap URL, vLLM servers, torchrun trainers). */

const root = join(import.meta.dirname, "..", "..");
const bin = join(root, "bin", "rstar.js");
const work = mkdtempSync(join(tmpdir(), "rstar-evolve-dry-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function rstar(args: string[]) {
    const result = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: "utf8" });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

interface Plan {
    ok: boolean;
    stages: { round: number; stage: string; command: string | null; servers: string[]; notes: string[]; status: string }[];
    checks: { what: string; ok: boolean; message: string }[];
}

describe("rstar evolve --dry-run", () => {
    const config = join(work, "evolve-real-scale.json");
    copyFileSync(join(root, "examples", "evolve-real-scale.json"), config);
    const out = join(work, "out");

    it("names every missing input and exits 2 when the example's data files are absent", () => {
        const result = rstar(["evolve", "--config", config, "--out", out, "--dry-run"]);
        expect(result.code).toBe(2);
        expect(result.stdout).toContain(`FAIL data.train: cannot read dataset ${join(work, "data", "numina-train.jsonl")}`);
        expect(existsSync(out)).toBe(false);
    });

    it("prints every stage's command of the four rounds with the templates filled in, and checks the data formats", () => {
        mkdirSync(join(work, "data"), { recursive: true });
        const problems = [{ question: "What is 2 + 3?", answer: "5" }, { question: "What is 7 * 6?", answer: "42" }];
        for (const file of ["numina-train.jsonl", "math500_test.jsonl", "aime2024_test.jsonl"]) writeFileSync(join(work, "data", file), problems.map((p) => JSON.stringify(p)).join("\n") + "\n");
        const result = rstar(["evolve", "--config", config, "--out", out, "--dry-run", "--json"]);
        expect(result.code, result.stderr + result.stdout).toBe(0);
        const plan = JSON.parse(result.stdout) as Plan;
        expect(plan.ok).toBe(true);
        expect(existsSync(out)).toBe(false);
        const stage = (round: number, name: string) => plan.stages.find((s) => s.round === round && s.stage === name);
        const names = plan.stages.filter((s) => s.round === 4).map((s) => s.stage);
        expect(names).toEqual(["sample", "search", "search-unsolved-1", "search-unsolved-2", "extract-sft", "extract-ppm", "train-sft", "train-ppm", "eval-test-greedy", "eval-test-maj@8", "eval-test-mcts", "eval-ood-greedy", "eval-ood-maj@8", "eval-ood-mcts", "report"]);
        // Round 1: the remote bootstrap model, terminal-guided, 8 rollouts.
        expect(stage(1, "search")?.servers).toEqual(["policy: http://bootstrap.internal:8000/v1 (model deepseek-coder-v2-instruct, already running)"]);
        expect(stage(1, "search")?.command).toContain("--preset bootstrap --rollouts 8");
        expect(stage(1, "search")?.command).toContain("--no-leaf-value");
        // Round 2: the round-1 policy behind vLLM, 16 rollouts; round 3: PPM-augmented with the round-2 PPM.
        expect(stage(2, "search")?.servers[0]).toBe(`policy: vllm serve ${join(out, "round-1", "policy")} --port {port} --served-model-name policy --tensor-parallel-size 1 → http://127.0.0.1:{port}/v1 (model policy)`);
        expect(stage(2, "search")?.command).toContain("--rollouts 16");
        expect(stage(3, "search")?.command).toContain(`--leaf-value --reward-url 'http://127.0.0.1:{port}' --reward-model ppm --value-head ${join(out, "round-2", "ppm", "value_head.safetensors")}`);
        expect(stage(4, "search-unsolved-2")?.command).toContain("--rollouts 128");
        // Training through the torchrun templates, TRL-format data, SFT from the base model, the PPM from this round's policy.
        expect(stage(3, "train-sft")?.command).toBe(`torchrun --nproc_per_node 8 sft_trl.py --model_name_or_path /checkpoints/Qwen2.5-Math-7B --dataset ${join(out, "round-3", "sft.jsonl")} --output_dir ${join(out, "round-3", "policy")} --num_train_epochs 2 --learning_rate 7e-6 --seed 3`);
        expect(stage(3, "train-ppm")?.command).toContain(`--model_name_or_path ${join(out, "round-3", "policy")} --dataset ${join(out, "round-3", "pairs.jsonl")}`);
        expect(stage(3, "extract-sft")?.notes).toEqual(["writes {prompt, completion} JSONL (TRL SFTTrainer, prompt-completion dataset)"]);
        expect(stage(3, "extract-ppm")?.command).toContain("--format trl --min-margin 0.5 --min-edit-distance 20 --label q --final-pairs paper");
        expect(stage(1, "eval-ood-mcts")?.command).toContain(`--dataset ${join(work, "data", "aime2024_test.jsonl")} --method mcts`);
        for (const s of plan.stages) expect(s.command ?? "").not.toMatch(/\{(data|pairs|out|init|base|policy|ppm|seed|round)\}/);
        expect(plan.checks.filter((c) => c.what.startsWith("data."))).toEqual([
            { what: "data.train", ok: true, message: `${join(work, "data", "numina-train.jsonl")}: 2 problems, 2 with an answer` },
            { what: "data.test", ok: true, message: `${join(work, "data", "math500_test.jsonl")}: 2 problems, 2 with an answer` },
            { what: "data.ood", ok: true, message: `${join(work, "data", "aime2024_test.jsonl")}: 2 problems, 2 with an answer` },
        ]);
        expect(plan.checks.find((c) => c.what === "rounds.0.ppm.trainer")).toMatchObject({ ok: true, message: expect.stringContaining("{prompt, chosen, rejected}") });
    });

    it("--preset synthetic: from round 2 the PPM trains on the mix of its own pairs and the earlier rounds' (ppm-pairs.jsonl)", () => {
        const synthOut = join(work, "synthetic");
        const result = rstar(["evolve", "--preset", "synthetic", "--out", synthOut, "--dry-run", "--json"]);
        expect(result.code, result.stderr + result.stdout).toBe(0);
        const plan = JSON.parse(result.stdout) as Plan;
        const trainPpm = (round: number) => plan.stages.find((s) => s.round === round && s.stage === "train-ppm")?.command ?? "";
        expect(trainPpm(1)).toContain(`--pairs ${join(synthOut, "round-1", "pairs.jsonl")}`);
        for (const round of [2, 3, 4]) expect(trainPpm(round)).toContain(`--pairs ${join(synthOut, `round-${round}`, "ppm-pairs.jsonl")}`);
    });

    it("--preset synthetic with ppm.misreadPretrain: the misread pairs and the pretraining command, the round's PPM continued from it", () => {
        const synthOut = join(work, "synthetic-misreads");
        const file = join(work, "misreads.json");
        writeFileSync(file, JSON.stringify({ rounds: [{}, {}, { ppm: { misreadPretrain: { problems: 14000, trainer: { kind: "rstar", args: ["--epochs", "1"] } } } }, {}] }));
        const result = rstar(["evolve", "--preset", "synthetic", "--config", file, "--out", synthOut, "--dry-run", "--json"]);
        expect(result.code, result.stderr + result.stdout).toBe(0);
        const plan = JSON.parse(result.stdout) as Plan;
        const stage = (round: number, name: string) => plan.stages.find((s) => s.round === round && s.stage === name);
        const r3 = (name: string) => join(synthOut, "round-3", name);
        expect(stage(3, "misread-pairs")?.notes.join(" ")).toContain(`14000 new synthetic problems (seed 1703, none of test's or ood's questions), misread pairs (rstar synth misreads) → ${r3("misread-pairs.jsonl")}, the first 600's held out → ${r3("misread-heldout.jsonl")}`);
        expect(stage(3, "pretrain-ppm")?.command).toContain(`train ppm --pairs ${r3("misread-pairs.jsonl")} --base ${r3("policy")} --out ${r3("ppm-misreads")} --seed 1103 --test-pairs ${r3("misread-heldout.jsonl")} --epochs 1`);
        expect(stage(3, "train-ppm")?.command).toContain(`--base ${r3("ppm-misreads")}`);
        expect(stage(4, "pretrain-ppm")).toBeUndefined();
        expect(stage(4, "train-ppm")?.command).toContain(`--base ${join(synthOut, "round-4", "policy")}`);
    });

    it("--preset synthetic: the teacher searches short problems in round 1 and long ones in round 2; from round 3 the policy samples best-of-8 on 200 other train problems, its pairs extracted as the round's and mixed into ppm-pairs.jsonl", () => {
        const synthOut = join(work, "synthetic-samples");
        const result = rstar(["evolve", "--preset", "synthetic", "--out", synthOut, "--dry-run", "--json"]);
        expect(result.code, result.stderr + result.stdout).toBe(0);
        const plan = JSON.parse(result.stdout) as Plan;
        const stage = (round: number, name: string) => plan.stages.find((s) => s.round === round && s.stage === name);
        expect(stage(1, "sample")?.notes).toEqual([`window 2400 train problems with 2-6 steps → ${join(synthOut, "round-1", "problems.jsonl")}`]);
        expect(stage(2, "sample")?.notes).toEqual([`window 800 train problems with 7-8 steps → ${join(synthOut, "round-2", "problems.jsonl")}`]);
        expect(stage(2, "search")?.command).toContain("--preset bootstrap --rollouts 8 --seed 1020 --concurrency 8");
        expect(stage(2, "search")?.command).toContain("--model rstar-synth-teacher --terminal-reward ground-truth");
        expect(stage(2, "train-sft")?.command).toContain(`--data ${join(synthOut, "round-2", "sft-mix.jsonl")} --out ${join(synthOut, "round-2", "policy")} --seed 1002 --init ${join(synthOut, "round-1", "policy")}`);
        for (const round of [1, 2]) expect(plan.stages.filter((s) => s.round === round).map((s) => s.stage)).not.toContain("policy-samples");
        expect(plan.stages.filter((s) => s.round === 3).map((s) => s.stage).slice(0, 7)).toEqual(["sample", "search", "policy-samples", "extract-sft", "extract-ppm", "extract-policy-samples", "train-sft"]);
        const r3 = join(synthOut, "round-3");
        expect(stage(3, "policy-samples")?.command).toBe(
            `rstar search --dataset ${join(r3, "policy-sample-problems.jsonl")} --out ${join(r3, "policy-samples")} --preset best-of-n --samples 8 --seed 1503 --prompt sft --concurrency 8 --policy-url 'http://127.0.0.1:{port}/v1' --model policy --terminal-reward ground-truth --no-leaf-value --max-tokens 256 --json`,
        );
        // The policy the round's search uses (round 2's), served the same way.
        expect(stage(3, "policy-samples")?.servers).toEqual(stage(3, "search")?.servers);
        expect(stage(3, "policy-samples")?.notes).toEqual([`200 train problems at random outside ${join(r3, "problems.jsonl")} → ${join(r3, "policy-sample-problems.jsonl")}`]);
        expect(stage(3, "extract-policy-samples")?.command).toBe(
            `rstar extract ppm --trees ${join(synthOut, "round-3", "policy-samples", "trees.jsonl")} --out ${join(synthOut, "round-3", "policy-sample-pairs.jsonl")} --format official --min-margin 0.5 --min-edit-distance 5 --label q --final-pairs paper --json --quiet`,
        );
        expect(stage(4, "train-ppm")?.command).toContain(`--pairs ${join(synthOut, "round-4", "ppm-pairs.jsonl")}`);
        // From round 2 the policy continues from the last round's on its own records (x2) and the earlier rounds'.
        expect(stage(1, "train-sft")?.command).toContain(`--data ${join(synthOut, "round-1", "sft.jsonl")}`);
        expect(stage(3, "train-sft")?.command).toContain(`--data ${join(synthOut, "round-3", "sft-mix.jsonl")} --out ${join(synthOut, "round-3", "policy")} --seed 1003 --init ${join(synthOut, "round-2", "policy")}`);
        expect(stage(3, "train-sft")?.notes).toContain(`trains on ${join(synthOut, "round-3", "sft-mix.jsonl")}: this round's records x2, then rounds 1-2's`);
        // After the last round: the teacher of round 1 with MCTS+PPM on the harder split, with round 4's PPM.
        expect(stage(4, "eval-ood-baseline-mcts")?.command).toContain(`--model rstar-synth-teacher`);
        expect(stage(4, "eval-ood-baseline-mcts")?.command).toContain(`--ppm ${join(synthOut, "round-4", "ppm")}`);
        expect(stage(4, "eval-ood-baseline-mcts")?.command).toContain(`--out ${join(synthOut, "round-4", "eval", "ood-baseline-mcts")}`);
        // --queue: the sampling goes to the workers with the round's search models.
        const queued = rstar(["evolve", "--preset", "synthetic", "--out", synthOut, "--dry-run", "--json", "--queue", "redis://10.0.0.5:6379", "--rounds", "1-3"]);
        expect(queued.code, queued.stderr + queued.stdout).toBe(0);
        const queuedPlan = JSON.parse(queued.stdout) as Plan;
        const policySamples = queuedPlan.stages.find((s) => s.round === 3 && s.stage === "policy-samples");
        expect(policySamples?.command).toContain(`--queue redis://10.0.0.5:6379 --worker-models ${join(synthOut, "round-3", "worker-models-search.json")} --model policy --terminal-reward ground-truth`);
        expect(policySamples?.command).not.toContain("--policy-url");
    });

    it("fails the check of a command trainer that never reads its data, and rejects unknown placeholders by field", () => {
        const example = JSON.parse(readFileSync(config, "utf8")) as Record<string, any>;
        const noData = structuredClone(example);
        noData.roundDefaults.sft.trainer.command = "torchrun sft.py --output_dir {out}";
        writeFileSync(join(work, "no-data.json"), JSON.stringify(noData));
        const result = rstar(["evolve", "--config", join(work, "no-data.json"), "--out", out, "--dry-run", "--rounds", "2"]);
        expect(result.code).toBe(2);
        expect(result.stdout).toContain("FAIL rounds.1.sft.trainer: the command never uses {data}");
        const typo = structuredClone(example);
        typo.roundDefaults.ppm.trainer.command = "torchrun ppm.py --data {pair} --output_dir {out}";
        writeFileSync(join(work, "typo.json"), JSON.stringify(typo));
        const bad = rstar(["evolve", "--config", join(work, "typo.json"), "--out", out, "--dry-run"]);
        expect(bad.code).toBe(2);
        expect(bad.stderr).toContain(`${join(work, "typo.json")}, field "rounds.0.ppm.trainer.command"`);
        expect(bad.stderr).toContain("unknown placeholder {pair}");
    });
    it("--queue: the searches and evaluations go to the workers (no server flags), each stage names its worker models file, and the password is never printed", () => {
        const result = rstar(["evolve", "--config", config, "--out", out, "--dry-run", "--json", "--queue", "redis://:s3cret@10.0.0.5:6379"]);
        expect(result.code, result.stderr + result.stdout).toBe(0);
        expect(result.stdout).not.toContain("s3cret");
        const plan = JSON.parse(result.stdout) as Plan;
        const stage = (round: number, name: string) => plan.stages.find((s) => s.round === round && s.stage === name);
        expect(stage(3, "search")?.command).toContain(`--queue redis://10.0.0.5:6379 --worker-models ${join(out, "round-3", "worker-models-search.json")} --model policy`);
        expect(stage(3, "search")?.command).toContain("--leaf-value");
        expect(stage(3, "search")?.command).not.toContain("--reward-url");
        expect(stage(3, "search")?.command).not.toContain("--policy-url");
        expect(stage(3, "search")?.servers[0]).toBe(`on each worker host: policy: vllm serve ${join(out, "round-2", "policy")} --port {port} --served-model-name policy --tensor-parallel-size 1 → http://127.0.0.1:{port}/v1 (model policy)`);
        expect(stage(3, "eval-test-mcts")?.command).toContain(`--queue redis://10.0.0.5:6379 --worker-models ${join(out, "round-3", "worker-models-eval.json")}`);
        expect(stage(3, "eval-test-mcts")?.notes.join("\n")).toContain("rstar worker --queue redis://10.0.0.5:6379 on each host starts the servers");
        // Training stays here, unchanged.
        expect(stage(3, "train-sft")?.command).toMatch(/^torchrun /);
    });
});
