import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BenchModule, BenchRow } from "./harness.js";

/**
 * Time per stage per 100 problems of `rstar evolve --preset synthetic`: rounds 1-3 of the preset's settings (the
 * teacher on short, then on long problems; the policy's first round: search presets, rollouts, trainers, evaluation
 * methods) on RSTAR_BENCH_EVOLVE_PROBLEMS problems per round (default 20) and as many held-out problems, scaled to 100. Training time grows with the data, not only the problem count;
 * the rows say how many records each trainer saw.
 */
export const evolveBench: BenchModule = {
    title: "evolve (synthetic preset, seconds per stage per 100 problems)",
    async run() {
        const problems = Number(process.env["RSTAR_BENCH_EVOLVE_PROBLEMS"] ?? 20);
        const work = mkdtempSync(join(tmpdir(), "rstar-bench-evolve-"));
        try {
            const config = {
                // 2-8-step train problems as the preset's: 4x the count leaves each round a full window of its lengths.
                data: { synth: { train: 4 * problems, test: problems, ood: problems, difficulty: 3 } },
                roundDefaults: { problems: { sample: "window", count: problems } },
                rounds: [{}, {}, {}],
                eval: { methods: ["greedy", "mcts"], splits: ["test"], limit: problems },
            };
            const file = join(work, "bench.json");
            writeFileSync(file, JSON.stringify(config));
            const out = join(work, "out");
            const root = join(import.meta.dirname, "..");
            const started = performance.now();
            const result = spawnSync(process.execPath, [join(root, "bin", "rstar.js"), "evolve", "--preset", "synthetic", "--config", file, "--out", out, "--quiet"], { cwd: root, encoding: "utf8" });
            const wall = (performance.now() - started) / 1000;
            if (result.status !== 0) throw new Error(`rstar evolve exited ${result.status}: ${result.stderr.slice(-2000)}`);
            const report = JSON.parse(readFileSync(join(out, "report.json"), "utf8")) as { rounds: { round: number; problems: number; sftRecords: number; ppmPairs: number; stages: Record<string, { status: string; seconds: number }> }[] };
            const rows: BenchRow[] = [];
            for (const round of report.rounds) {
                for (const [stage, { status, seconds }] of Object.entries(round.stages)) {
                    if (status !== "done") continue;
                    const extra = stage === "train-sft" ? ` (${round.sftRecords} records)` : stage === "train-ppm" ? ` (${round.ppmPairs} pairs)` : "";
                    rows.push({ name: `round ${round.round} ${stage}${extra}`, value: Math.round((seconds * 100 * 10) / problems) / 10, unit: "s / 100 problems" });
                }
            }
            return { title: evolveBench.title, rows, notes: [`${problems} problems per round and per evaluation; whole run ${wall.toFixed(0)} s wall`] };
        } finally {
            rmSync(work, { recursive: true, force: true });
        }
    },
};
