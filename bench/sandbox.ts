import { spawnSync } from "node:child_process";
import { availableParallelism } from "node:os";
import { createSandbox } from "../src/sandbox/index.js";
import { findPython } from "../src/util/python.js";
import { measureRate, type BenchModule, type BenchRow } from "./harness.js";

// Realistic rStar code steps (as in the official few-shot examples): arithmetic, fractions, sympy.
const STEPS = [
    "from sympy import symbols, Eq, solve, Rational, simplify, sqrt\nfrom fractions import Fraction\nimport math",
    "# Step 1: total weight lifted\ntotal_weight = 2 * 20 * 12",
    "# Step 2: weight per repetition\nweight_per_rep = 2 * 15",
    "# Step 3: repetitions needed\nreps = total_weight / weight_per_rep",
    "# Step 4: define the variable\nx = symbols('x')",
    "# Step 5: set up the equation\nequation = Eq(3 * x + 5, Rational(7, 2))",
    "# Step 6: solve it\nsolution = solve(equation, x)",
    "# Step 7: combine fractions\nf = Fraction(3, 4) + Fraction(5, 6)",
    "# Step 8: binomial count\nways = math.comb(10, 3) * f",
    "# Step 9: simplify an expression\nexpr = simplify((x**2 - 1) / (x - 1))",
    "# Step 10: evaluate\nvalue = expr.subs(x, Rational(1, 2))",
    "# Step 11: a square root\nroot = sqrt(Rational(50, 2))",
    "# Step 12: print the answer\nprint(reps, solution, ways, value, root)",
];

/** A depth-d program: the import step plus the first d reasoning steps, the last of which prints. */
export function programAt(depth: number): string {
    const steps = STEPS.slice(1, depth + 1);
    return [STEPS[0], ...steps, depth < 12 ? "print(total_weight)" : ""].join("\n\n");
}

const BARE_EXEC = `
import io, json, sys, time
import math, fractions, sympy, numpy
programs = json.loads(sys.stdin.read())
sys.stdout = io.StringIO()  # captured, as any tool must; truncated below so it does not grow
rates = {}
for depth, code in programs.items():
    exec(code, {"__name__": "__main__"})
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < 1.0 or n < 20:
        exec(code, {"__name__": "__main__"})
        sys.stdout.seek(0)
        sys.stdout.truncate()
        n += 1
    rates[depth] = n / (time.perf_counter() - start)
sys.__stdout__.write(json.dumps(rates) + chr(10))
`;

export const sandboxBench: BenchModule = {
    title: "sandbox: step verifications per second",
    run: async () => {
        const python = findPython({ modules: ["sympy", "numpy"], purpose: "the sandbox benchmark" });
        const depths = Array.from({ length: 12 }, (_, i) => i + 1);
        const programs = Object.fromEntries(depths.map((d) => [String(d), programAt(d)]));
        const cores = availableParallelism();

        // Baseline 1: warm exec in fresh globals in one plain python process, no isolation, timed inside Python.
        const bare = spawnSync(python, ["-c", BARE_EXEC], { input: JSON.stringify(programs), encoding: "utf8", env: { ...process.env, OPENBLAS_NUM_THREADS: "1" } });
        if (bare.status !== 0) throw new Error(`bare exec baseline failed: ${bare.stderr}`);
        const bareRates = JSON.parse(bare.stdout) as Record<string, number>;

        const rows: BenchRow[] = [];
        const sequential = await createSandbox({ workers: 1, spares: 1 });
        const pool = await createSandbox({ workers: cores, spares: 1 });
        try {
            for (const depth of depths) {
                const code = programs[String(depth)] as string;
                const check = await sequential.run(code);
                if (!check.ok) throw new Error(`depth ${depth} program failed in the sandbox: ${check.observation}`);
                const bareRate = bareRates[String(depth)] as number;
                const against = `bare exec d${depth}`;
                rows.push({ name: against, value: bareRate, unit: "steps/s" });
                const seqRate = await measureRate(() => sequential.run(code), { minMs: 1000 });
                rows.push({ name: `sandbox d${depth}, 1 worker, one at a time`, value: seqRate, unit: "steps/s", ratio: { value: seqRate / bareRate, against } });
                const batch = cores * 4;
                const poolRate = await measureRate(() => Promise.all(Array.from({ length: batch }, () => pool.run(code))), { minMs: 1000, opsPerCall: batch });
                rows.push({ name: `sandbox d${depth}, pool of ${cores}`, value: poolRate, unit: "steps/s", ratio: { value: poolRate / bareRate, against } });
                // Baseline 2: a fresh python3 process per step (interpreter start and imports every time).
                const freshRate = await measureRate(
                    () => {
                        const run = spawnSync(python, ["-c", code], { encoding: "utf8", env: { ...process.env, OPENBLAS_NUM_THREADS: "1" } });
                        if (run.status !== 0) throw new Error(run.stderr);
                    },
                    { minMs: 0, minIterations: 2 },
                );
                rows.push({ name: `fresh python3 per step d${depth}`, value: freshRate, unit: "steps/s", ratio: { value: freshRate / bareRate, against } });
            }
            const seqStats = sequential.stats();
            const poolStats = pool.stats();
            return {
                title: "sandbox: step verifications per second",
                rows,
                notes: [
                    `bare exec = exec(code, fresh globals) in one warm python process with sympy+numpy loaded, no isolation, timed inside Python`,
                    `isolation: ${JSON.stringify({ namespaces: sequential.isolation.namespaces, uid: sequential.isolation.uid, landlock: sequential.isolation.landlock.abi, auditHook: sequential.isolation.auditHook })}`,
                    `inside the worker, mean per program: run ${seqStats.meanExecMs.toFixed(3)} ms, taint check ${seqStats.meanCheckMs.toFixed(3)} ms`,
                    `recycles: sequential ${seqStats.recycled} of ${seqStats.completed}, pool ${poolStats.recycled} of ${poolStats.completed}`,
                ],
            };
        } finally {
            await sequential.dispose();
            await pool.dispose();
        }
    },
};
