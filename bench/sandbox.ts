import { spawnSync } from "node:child_process";
import { availableParallelism } from "node:os";
import { createSandbox } from "../src/sandbox/index.js";
import { findPython } from "../src/util/index.js";
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

// Baselines timed inside one warm Python process (sympy + numpy loaded, no isolation, no limits):
// "bare": exec(code) in fresh globals with stdout captured;
// "official": the procedure the official rStar tool performs per step, re-implemented here from its description
// (parse to an AST; cut the body at top-level print statements; for each part, unparse the AST back to source,
// exec all but its last statement, then eval the last one, falling back to exec, with stdout redirected; shorten
// the observation to 1024 characters). It runs in one process with no isolation, as the official solver does.
const IN_PROCESS_BASELINES = `
import ast, contextlib, io, json, sys, time
import math, fractions, sympy, numpy
programs = json.loads(sys.stdin.read())

def is_print(node):
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) and isinstance(node.value.func, ast.Name) and node.value.func.id == "print":
        return True
    if isinstance(node, (ast.If, ast.While, ast.For, ast.FunctionDef)):
        return any(is_print(child) for child in node.body)
    return False

def run_part(body, scope):
    buffer = io.StringIO()
    exec(ast.unparse(ast.Module(body[:-1], type_ignores=[])), scope)
    last = ast.unparse(ast.Module(body[-1:], type_ignores=[]))
    try:
        with contextlib.redirect_stdout(buffer):
            value = eval(last, scope)
        text = buffer.getvalue() if value is None else str(value)
    except Exception:
        with contextlib.redirect_stdout(buffer):
            exec(last, scope)
        text = buffer.getvalue()
    return text if len(text) <= 1024 else text[:512] + "..." + text[-512:]

def official(code):
    scope = {"__name__": "__main__"}
    tree = ast.parse(code.strip())
    prints = [i for i, node in enumerate(tree.body) if is_print(node)] or [len(tree.body) - 1]
    if len(prints) == 1:
        return run_part(tree.body, scope)
    return "".join(run_part(tree.body[a + 1:b + 1], scope) for a, b in zip([-1] + prints, prints))

def bare(code):
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        exec(code, {"__name__": "__main__"})
    return buffer.getvalue()

def rate(fn, code):
    fn(code)
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < 1.0 or n < 20:
        fn(code)
        n += 1
    return n / (time.perf_counter() - start)

rates = {depth: {"bare": rate(bare, code), "official": rate(official, code)} for depth, code in programs.items()}
sys.__stdout__.write(json.dumps(rates) + chr(10))
`;

export const sandboxBench: BenchModule = {
    title: "sandbox: step verifications per second",
    run: async () => {
        const python = findPython({ modules: ["sympy", "numpy"], purpose: "the sandbox benchmark" });
        const depths = Array.from({ length: 12 }, (_, i) => i + 1);
        const programs = Object.fromEntries(depths.map((d) => [String(d), programAt(d)]));
        const cores = availableParallelism();

        const baselines = spawnSync(python, ["-c", IN_PROCESS_BASELINES], { input: JSON.stringify(programs), encoding: "utf8", env: { ...process.env, OPENBLAS_NUM_THREADS: "1" } });
        if (baselines.status !== 0) throw new Error(`in-process baselines failed: ${baselines.stderr}`);
        const inProcess = JSON.parse(baselines.stdout) as Record<string, { bare: number; official: number }>;

        const rows: BenchRow[] = [];
        const sequential = await createSandbox({ workers: 1, spares: 1 });
        const pool = await createSandbox({ workers: cores, spares: 1 });
        try {
            for (const depth of depths) {
                const code = programs[String(depth)] as string;
                const check = await sequential.run(code);
                if (!check.ok) throw new Error(`depth ${depth} program failed in the sandbox: ${check.observation}`);
                const { bare: bareRate, official: officialRate } = inProcess[String(depth)] as { bare: number; official: number };
                const against = `bare exec d${depth}`;
                rows.push({ name: against, value: bareRate, unit: "steps/s" });
                rows.push({ name: `official tool path d${depth}`, value: officialRate, unit: "steps/s", ratio: { value: officialRate / bareRate, against } });
                const seqRate = await measureRate(() => sequential.run(code), { minMs: 1000 });
                rows.push({ name: `sandbox d${depth}, 1 worker, one at a time`, value: seqRate, unit: "steps/s", ratio: { value: seqRate / bareRate, against } });
                rows.push({ name: `  sandbox vs official tool path d${depth}`, value: seqRate / officialRate, unit: "x (1 worker / official, same process count)" });
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
