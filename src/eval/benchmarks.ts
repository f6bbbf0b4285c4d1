import { existsSync } from "node:fs";
import { join } from "node:path";
import { RstarError } from "../errors/index.js";
import { packageRoot } from "../util/index.js";

/** The nine official evaluation sets (microsoft/rStar, branch rStar-math, eval_data/), by the names eval.py uses. */
export const BENCHMARK_FILES: Readonly<Record<string, string>> = {
    math500: "math500_test.json",
    gsm8k: "GSM8K_test.json",
    aime2024: "aime2024_test.json",
    amc23: "amc23_test.json",
    collegemath: "collegemath_test.json",
    gaokao2023en: "gaokao2023en_test.json",
    olympiadbench: "olympiadbench_test.json",
    "omni-math": "omni_test.json",
    math: "MATH_test.json",
};

/** The path of a shipped benchmark set (data/benchmarks/ inside the package). */
export function benchmarkPath(name: string): string {
    const file = BENCHMARK_FILES[name.toLowerCase()];
    if (file === undefined) throw new RstarError("INVALID_ARGUMENT", `unknown benchmark "${name}"; choose one of ${Object.keys(BENCHMARK_FILES).join(", ")}`);
    const path = join(packageRoot(), "data", "benchmarks", file);
    if (!existsSync(path)) throw new RstarError("FILE_NOT_FOUND", `benchmark ${name} is missing from this package (${path})`);
    return path;
}
