import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { createSandbox, type Sandbox } from "../src/sandbox/index.js";
import { findPython, packageRoot } from "../src/util/index.js";
import { measureRate, type BenchModule, type BenchRow } from "./harness.js";

// A 16-step rStar-style solution (code steps as in the official few-shot examples: arithmetic, fractions, sympy).
// The program verified at depth d is the import step plus steps 1..d, each step on its own lines, so the program
// at depth d+1 extends the one at depth d at a line break (as consecutive steps of one trajectory do). `k` varies
// the numbers per trajectory, so that trajectories are distinct programs.
const HEADER = "from sympy import symbols, Eq, solve, Rational, simplify, sqrt\nfrom fractions import Fraction\nimport math";
const STEPS: ((k: number) => string)[] = [
    (k) => `# Step 1: total weight lifted\ntotal_weight = 2 * 20 * ${12 + k}`,
    () => "# Step 2: weight per repetition\nweight_per_rep = 2 * 15",
    () => "# Step 3: repetitions needed\nreps = total_weight / weight_per_rep\nreps",
    () => "# Step 4: define the variable\nx = symbols('x')",
    (k) => `# Step 5: set up the equation\nequation = Eq(3 * x + ${5 + k}, Rational(7, 2))`,
    () => "# Step 6: solve it\nsolution = solve(equation, x)\nsolution",
    (k) => `# Step 7: combine fractions\nf = Fraction(3, 4) + Fraction(${5 + k}, 6)`,
    () => "# Step 8: binomial count\nways = math.comb(10, 3) * f\nways",
    () => "# Step 9: simplify an expression\nexpr = simplify((x**2 - 1) / (x - 1))",
    (k) => `# Step 10: evaluate\nvalue = expr.subs(x, Rational(1, ${2 + k}))\nvalue`,
    () => "# Step 11: a square root\nroot = sqrt(Rational(50, 2))",
    () => "# Step 12: a running list of partial results\npartials = [reps, ways, value]\npartials.append(root)",
    (k) => `# Step 13: scale the weights\nscaled = [w * ${2 + k} for w in (total_weight, weight_per_rep)]`,
    () => "# Step 14: a helper\ndef per_rep(total):\n    return total / weight_per_rep",
    () => "# Step 15: apply it\nratio = per_rep(scaled[0])\nratio",
    () => "# Step 16: print the answer\nprint(reps, solution, ways, value, root, ratio)",
];
export const MAX_DEPTH = STEPS.length;

/** The program verified at depth d (1..16) of trajectory k. */
export function programAt(depth: number, k = 0): string {
    return [HEADER, ...STEPS.slice(0, depth).map((step) => step(k))].join("\n");
}

// In-process baselines, timed inside one warm Python process with no isolation and no limits:
// "bare": exec(code) in fresh globals with stdout captured;
// "official": the official rStar tool class `PythonInterpreter` (rstar_deepthink/tools/python_tool.py, branch
// rStar-math), imported from an export of the official repository when RSTAR_OFFICIAL_REPO names one, used as the
// official solver does (one instance, one globals dict, `run(code)`); when `timeout_decorator` is not installed,
// a stand-in with the same mechanism (SIGALRM via setitimer around each call) is used and the note says so.
// Without RSTAR_OFFICIAL_REPO, a re-implementation of its per-step procedure is timed and labelled as such.
const IN_PROCESS = String.raw`
import ast, contextlib, io, json, os, signal, sys, time, types
import math, fractions, sympy, numpy
request = json.loads(sys.stdin.read())
label = "re-implementation of the official per-step procedure"
official_repo = os.environ.get("RSTAR_OFFICIAL_REPO")
if official_repo:
    try:
        import timeout_decorator
        label = "official PythonInterpreter"
    except ImportError:
        stand_in = types.ModuleType("timeout_decorator")
        def timeout(seconds=None, use_signals=True, timeout_exception=None, exception_message=None):
            def decorate(function):
                def wrapped(*args, **kwargs):
                    def handler(signum, frame):
                        raise TimeoutError(exception_message)
                    previous = signal.signal(signal.SIGALRM, handler)
                    signal.setitimer(signal.ITIMER_REAL, seconds)
                    try:
                        return function(*args, **kwargs)
                    finally:
                        signal.setitimer(signal.ITIMER_REAL, 0)
                        signal.signal(signal.SIGALRM, previous)
                return wrapped
            return decorate
        stand_in.timeout = timeout
        sys.modules["timeout_decorator"] = stand_in
        label = "official PythonInterpreter (timeout_decorator not installed: SIGALRM stand-in)"
    sys.path.insert(0, official_repo)
    import warnings
    warnings.simplefilter("ignore")
    from rstar_deepthink.tools.python_tool import PythonInterpreter
    tool = PythonInterpreter(globals={}, locals=None)
    def official(code):
        return tool.run(code).strip()
else:
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
    def official_inner(code):
        scope = {"__name__": "__main__"}
        tree = ast.parse(code.strip())
        prints = [i for i, node in enumerate(tree.body) if is_print(node)] or [len(tree.body) - 1]
        if len(prints) == 1:
            return run_part(tree.body, scope)
        return "".join(run_part(tree.body[a + 1:b + 1], scope) for a, b in zip([-1] + prints, prints))
    def official(code):
        try:
            return official_inner(code).strip()
        except Exception as error:
            return f"{type(error).__name__}: {error}"

def bare(code):
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        exec(code, {"__name__": "__main__"})
    return buffer.getvalue()

def rate(fn, code, seconds):
    fn(code)
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds or n < 5:
        fn(code)
        n += 1
    return n / (time.perf_counter() - start)

if request["mode"] == "rates":
    out = {"label": label, "rates": {depth: {"bare": rate(bare, code, request["seconds"]), "official": rate(official, code, request["seconds"])} for depth, code in request["programs"].items()}}
else:
    # The batch: every program in order through one official tool, as the official solver's worker does.
    observations = [official(code) for code in request["programs"]]
    out = {"label": label, "observations": observations}
sys.__stdout__.write(json.dumps(out) + chr(10))
`;

interface Baseline {
    label: string;
    rates?: Record<string, { bare: number; official: number }>;
    observations?: string[];
}

function inProcess(python: string, request: object): { result: Baseline; wallMs: number } {
    const started = performance.now();
    const run = spawnSync(python, ["-c", IN_PROCESS], { input: JSON.stringify(request), encoding: "utf8", maxBuffer: 1 << 28, env: { ...process.env, OPENBLAS_NUM_THREADS: "1" } });
    const wallMs = performance.now() - started;
    if (run.status !== 0) throw new Error(`in-process baseline failed: ${run.stderr}`);
    return { result: JSON.parse(run.stdout) as Baseline, wallMs };
}

/** Mean milliseconds of `sandbox.run` for the program at each depth, running whole trajectories one step at a time. */
async function trajectoryStepMs(sandbox: Sandbox, trajectories: number, offset: number): Promise<number[]> {
    const totals = new Array<number>(MAX_DEPTH + 1).fill(0);
    for (let t = 0; t < trajectories; t++) {
        for (let depth = 1; depth <= MAX_DEPTH; depth++) {
            const started = performance.now();
            const result = await sandbox.run(programAt(depth, offset + t));
            totals[depth] = (totals[depth] as number) + performance.now() - started;
            if (!result.ok) throw new Error(`depth ${depth} failed in the sandbox: ${result.observation}`);
        }
    }
    return totals.map((total) => total / trajectories);
}

const BATCH_DEPTHS = [8, 9, 10, 11, 12];

export const sandboxBench: BenchModule = {
    title: "sandbox: step verifications per second",
    run: async () => {
        const python = findPython({ modules: ["sympy", "numpy"], purpose: "the sandbox benchmark" });
        const cores = availableParallelism();
        const seconds = Number(process.env["RSTAR_BENCH_SECONDS"] ?? "0.5");
        const batchSize = Number(process.env["RSTAR_BENCH_BATCH"] ?? "10000");
        const depths = Array.from({ length: MAX_DEPTH }, (_, i) => i + 1);
        const programs = Object.fromEntries(depths.map((d) => [String(d), programAt(d)]));
        const load = loadavg()[0] ?? 0;

        const { result: baseline } = inProcess(python, { mode: "rates", programs, seconds });
        const label = baseline.label;
        const rows: BenchRow[] = [];
        const sequential = await createSandbox({ workers: 1, spares: 1, prefixReuse: false });
        const pool = await createSandbox({ workers: cores, spares: 1, prefixReuse: false });
        const reusing = await createSandbox({ workers: 1, spares: 1 });
        const split = { exec: 0, check: 0, wall: 0, n: 0 };
        try {
            const reuseMs = await trajectoryStepMs(reusing, 12, 1000);
            for (const depth of depths) {
                const code = programs[String(depth)] as string;
                const { bare: bareRate, official: officialRate } = baseline.rates?.[String(depth)] as { bare: number; official: number };
                const against = `official d${depth}`;
                rows.push({ name: against, value: officialRate, unit: "steps/s" });
                rows.push({ name: `  bare exec d${depth}`, value: bareRate, unit: "steps/s", ratio: { value: bareRate / officialRate, against } });
                const before = sequential.stats();
                const oneStarted = performance.now();
                const oneRate = await measureRate(() => sequential.run(code), { minMs: seconds * 1000 });
                const after = sequential.stats();
                const measured = after.completed - before.completed;
                split.exec += after.meanExecMs * after.completed - before.meanExecMs * before.completed;
                split.check += after.meanCheckMs * after.completed - before.meanCheckMs * before.completed;
                split.wall += performance.now() - oneStarted;
                split.n += measured;
                rows.push({ name: `  ours, 1 worker, one at a time d${depth}`, value: oneRate, unit: "steps/s", ratio: { value: oneRate / officialRate, against } });
                const batch = 16;
                const pipelinedRate = await measureRate(() => Promise.all(Array.from({ length: batch }, () => sequential.run(code))), { minMs: seconds * 1000, opsPerCall: batch });
                rows.push({ name: `  ours, 1 worker, batch of ${batch} d${depth}`, value: pipelinedRate, unit: "steps/s", ratio: { value: pipelinedRate / officialRate, against } });
                const poolRate = await measureRate(() => Promise.all(Array.from({ length: batch * cores }, () => pool.run(code))), { minMs: seconds * 1000, opsPerCall: batch * cores });
                rows.push({ name: `  ours, pool of ${cores}, batch of ${batch * cores} d${depth}`, value: poolRate, unit: "steps/s", ratio: { value: poolRate / officialRate, against } });
                const reuseRate = 1000 / (reuseMs[depth] as number);
                rows.push({ name: `  ours, prefix reuse, 1 worker, one at a time d${depth}`, value: reuseRate, unit: "steps/s", ratio: { value: reuseRate / officialRate, against } });
            }
        } finally {
            await sequential.dispose();
            await pool.dispose();
            await reusing.dispose();
        }

        // The 10,000-program batch at depth 8-12 (trajectory k: its programs at depth 8, 9, 10, 11, 12 in order),
        // start-up included: one official tool in one fresh Python process, against `rstar exec --batch`.
        const count = Math.max(BATCH_DEPTHS.length, batchSize - (batchSize % BATCH_DEPTHS.length));
        const batchPrograms = Array.from({ length: count }, (_, i) => programAt(BATCH_DEPTHS[i % BATCH_DEPTHS.length] as number, Math.floor(i / BATCH_DEPTHS.length)));
        const { result: officialBatch, wallMs: officialMs } = inProcess(python, { mode: "batch", programs: batchPrograms });
        const folder = mkdtempSync(join(tmpdir(), "rstar-bench-"));
        const notes: string[] = [];
        try {
            const input = join(folder, "batch.jsonl");
            writeFileSync(input, batchPrograms.map((code, id) => JSON.stringify({ id, code })).join("\n") + "\n");
            const cli = join(packageRoot(), "dist", "cli", "main.js");
            const batchRow = (name: string, extra: string[]): { ms: number; observations: string[] } => {
                const started = performance.now();
                const run = spawnSync(process.execPath, [cli, "exec", "--batch", input, ...extra], { encoding: "utf8", maxBuffer: 1 << 28 });
                const ms = performance.now() - started;
                if (run.status !== 0) throw new Error(`rstar exec --batch failed (${String(run.status)}): ${run.stderr}`);
                const observations = run.stdout.trim().split("\n").map((line) => (JSON.parse(line) as { observation: string }).observation);
                rows.push({ name, value: ms / count, unit: `ms/step over ${count} programs, start-up included`, ratio: { value: officialMs / ms, against: `official batch (${label})` } });
                return { ms, observations };
            };
            rows.push({ name: `official batch depth 8-12 (${label})`, value: officialMs / count, unit: `ms/step over ${count} programs, start-up included` });
            const full = batchRow("rstar exec --batch, prefix reuse off", ["--no-prefix-reuse"]);
            const reuse = batchRow("rstar exec --batch (default: prefix reuse)", []);
            const officialObservations = officialBatch.observations ?? [];
            const same = (observations: string[]): number => observations.filter((text, i) => text === officialObservations[i]).length;
            notes.push(`observations byte-identical to the official's: ${same(full.observations)}/${count} (reuse off), ${same(reuse.observations)}/${count} (reuse on)`);
        } finally {
            rmSync(folder, { recursive: true, force: true });
        }
        const roundTrip = split.n ? split.wall / split.n - (split.exec + split.check) / split.n : 0;
        notes.push(
            `baseline: ${label}${process.env["RSTAR_OFFICIAL_REPO"] ? ` from ${process.env["RSTAR_OFFICIAL_REPO"]}` : " (set RSTAR_OFFICIAL_REPO to an export of the official repo, branch rStar-math, to time the real class)"}`,
            `cost split, 1 worker one at a time, mean over depths: in the worker ${(split.exec / Math.max(1, split.n)).toFixed(3)} ms (resets, compile, exec, observation), state check ${(split.check / Math.max(1, split.n)).toFixed(3)} ms, round trip and Node ${roundTrip.toFixed(3)} ms`,
            `load average at start ${load.toFixed(1)} on ${cores} cores: absolute timings are noisy, the ratios (measured side by side) are what to read`,
            "prefix reuse rows: 12 trajectories run step by step (depth 1..16); a step runs only its new code on the state its prefix left",
        );
        return { title: "sandbox: step verifications per second", rows, notes };
    },
};
