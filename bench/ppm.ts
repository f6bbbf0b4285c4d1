import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { findTrainingPython } from "../src/train/index.js";
import type { BenchModule } from "./harness.js";

/**
 * PPM training throughput: the Bradley-Terry loss's forward and backward with every pair scored on its own (two
 * sequences per pair) against each distinct text of a problem scored once (train/ppm_groups.py), on the same model and
 * pairs shaped like a search tree's (step pairs on shared prefixes plus whole-trajectory final-answer pairs).
 */
export const ppmBench: BenchModule = {
    title: "PPM training: per-pair scoring vs each distinct text once (grouped)",
    async run() {
        const problems = process.env["RSTAR_BENCH_PPM_PROBLEMS"] ?? "60";
        const script = join(import.meta.dirname, "..", "train", "bench_ppm_scoring.py");
        const result = spawnSync(findTrainingPython(), [script, "--problems", problems], { encoding: "utf8", env: { ...process.env, OMP_NUM_THREADS: "1" } });
        if (result.status !== 0) throw new Error(`bench_ppm_scoring.py exited ${result.status}: ${result.stderr.slice(-2000)}`);
        const m = JSON.parse(result.stdout.trim().split("\n").pop() as string) as { pairs: number; problems: number; params: number; per_pair_pairs_per_s: number; grouped_pairs_per_s: number; tokens_per_pair_scoring: number; tokens_grouped: number };
        return {
            title: this.title,
            rows: [
                { name: "per pair (official: two sequences a pair)", value: m.per_pair_pairs_per_s, unit: "pairs/s" },
                { name: "grouped (each distinct text of a problem once)", value: m.grouped_pairs_per_s, unit: "pairs/s", ratio: { value: m.grouped_pairs_per_s / m.per_pair_pairs_per_s, against: "per pair" } },
                { name: "tokens run, per pair", value: m.tokens_per_pair_scoring, unit: "tokens" },
                { name: "tokens run, grouped", value: m.tokens_grouped, unit: "tokens", ratio: { value: m.tokens_grouped / m.tokens_per_pair_scoring, against: "per pair" } },
            ],
            notes: [`${m.pairs} pairs of ${m.problems} problems, a ${(m.params / 1e6).toFixed(2)}M-parameter model, 1 thread, batch 16 pairs`],
        };
    },
};
