import { existsSync } from "node:fs";
import { join } from "node:path";
import { RstarError } from "../errors/index.js";
import { packageRoot } from "../util/index.js";

/**
 * The evaluation sets shipped in `data/benchmarks/` (copied from the official rStar-Math repo's eval data, MIT,
 * license in data/benchmarks/LICENSE-rStar-eval-data.txt), by the short name `rstar eval --benchmark NAME` takes.
 * Each file is a JSON array of `{question, answer, …}` records that `loadDataset` reads as it is.
 */
export const BENCHMARKS = {
    math500: { file: "math500_test.json", problems: 500 },
    gsm8k: { file: "GSM8K_test.json", problems: 1319 },
    aime2024: { file: "aime2024_test.json", problems: 30 },
    amc23: { file: "amc23_test.json", problems: 40 },
    collegemath: { file: "collegemath_test.json", problems: 2818 },
    // 2 records have an empty gold answer (as in the official file)
    gaokao2023en: { file: "gaokao2023en_test.json", problems: 385 },
    olympiadbench: { file: "olympiadbench_test.json", problems: 675 },
    // 9 records have an empty gold answer (as in the official file)
    omni: { file: "omni_test.json", problems: 4428 },
    math: { file: "MATH_test.json", problems: 5000 },
} as const satisfies Record<string, { file: string; problems: number }>;

export type BenchmarkName = keyof typeof BENCHMARKS;

export const BENCHMARK_NAMES = Object.keys(BENCHMARKS) as BenchmarkName[];

/** The folder that holds the shipped benchmark files. */
export function benchmarksDir(): string {
    return join(packageRoot(), "data", "benchmarks");
}

/**
 * Path of a shipped benchmark by name (case-insensitive; `gsm8k`, `math500`, `aime2024`, …). An unknown name is an
 * INVALID_ARGUMENT listing the known ones; a missing file (a broken install) is FILE_NOT_FOUND.
 */
export function benchmarkPath(name: string): string {
    const key = name.trim().toLowerCase();
    const entry = Object.hasOwn(BENCHMARKS, key) ? BENCHMARKS[key as BenchmarkName] : undefined;
    if (entry === undefined) throw new RstarError("INVALID_ARGUMENT", `unknown benchmark "${name}"; choose one of ${BENCHMARK_NAMES.join(", ")}`);
    const path = join(benchmarksDir(), entry.file);
    if (!existsSync(path)) throw new RstarError("FILE_NOT_FOUND", `the shipped benchmark ${key} is missing: ${path} (reinstall rstar-math)`);
    return path;
}
