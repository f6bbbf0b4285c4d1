import { seededRandom } from "../../src/util/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSandbox, type ExecResult, type Sandbox } from "../../src/sandbox/index.js";
import { programForStep } from "../../src/steps/index.js";

// Differential tests: a pool with prefix reuse must answer every program exactly as a pool that re-runs every
// program in full. Programs are generated trajectories (each program is the previous one plus a newline and a new
// step), whose steps mutate earlier objects, print, draw random numbers, define functions with mutable defaults,
// alias containers, raise errors, and sometimes use what reuse cannot copy (classes, generators), so both paths run.

const rng = seededRandom;

// Every trajectory starts by making the objects later steps mutate and read.
const OBJECTS =
    "a = [3, 1, 2]\nb = a\nd = {'k': [1], 'n': 0}\nt = (a, [1, 2])\nnested = [[0], [1]]\ndef f(x, acc=[]):\n    acc.append(x)\n    return len(acc)\n" +
    "def total():\n    return sum(a) + d['n']\narr = np.arange(6)\nc = Counter('abca')\ndq = deque([1, 2], maxlen=3)\ndd = defaultdict(list)\ns = {1, 2}";
const FIRST_STEPS = [
    `import math\nimport random\nimport numpy as np\nfrom fractions import Fraction\nfrom collections import Counter, defaultdict, deque\nfrom sympy import symbols, Rational, solve, Eq, simplify\n${OBJECTS}`,
    `import random\nfrom collections import Counter, defaultdict, deque\nimport numpy as np\n${OBJECTS}`,
    `from sympy import *\nimport random\nimport numpy as np\nfrom collections import Counter, defaultdict, deque\nfrom fractions import Fraction\n${OBJECTS}`,
];

// Steps that change earlier objects in place, and steps that read them (a sibling after a changing one must not
// see the change).
const MUTATIONS: ((n: number) => string)[] = [
    (n) => `a.append(${n})`,
    (n) => `b[0] = ${n}`,
    () => `a.sort()`,
    (n) => `d['k'].append(${n})\nd['n'] += ${n}`,
    (n) => `t[1].append(${n})`,
    (n) => `nested[0].append(${n})`,
    (n) => `f(${n})`,
    (n) => `arr[1] += ${n}`,
    () => `arr *= 3`,
    () => `c['a'] += 5`,
    (n) => `dq.append(${n})`,
    (n) => `dd['x'].append(${n})`,
    (n) => `s.add(${n})`,
    () => `a.extend(a)`,
];
const READS: (() => string)[] = [
    () => `print(a, b is a)`,
    () => `print(d, t)`,
    () => `nested`,
    () => `f(0)`,
    () => `total()`,
    () => `print(arr.sum(), arr)`,
    () => `c.most_common(2)`,
    () => `list(dq)`,
    () => `dict(dd)`,
    () => `sorted(s)`,
];

// Each step may use names made by earlier ones; a NameError when they are missing is an observation like any other.
const STEPS: ((n: number) => string)[] = [
    (n) => `a = [${n}, ${n + 1}, ${n + 2}]`,
    (n) => `a.append(${n})\nprint(len(a), end=" ")`,
    () => `b = a\nb[0] = b[0] * 2\na`,
    (n) => `d = {"k": [${n}]}\nd["k"].append(sum(a) if "a" in dir() else 0)\nd`,
    () => `d["k"].sort(reverse=True)\nprint(d)`,
    (n) => `def f(x, acc=[]):\n    acc.append(x)\n    return len(acc) + ${n}`,
    (n) => `print(f(${n}))\nprint(f(${n + 1}))`,
    (n) => `g = lambda y: y * ${n} + len(a)\ng(2)`,
    () => `r = random.randint(1, 1000)\nprint(r)`,
    () => `random.random()`,
    () => `arr = np.arange(6)\narr[2] += 10\nprint(arr.sum())`,
    () => `arr *= 2\narr`,
    () => `np.random.randint(0, 100, size=3)`,
    (n) => `x = symbols("x")\nsol = solve(Eq(2 * x + ${n}, 7), x)\nsol`,
    (n) => `q = Rational(${n}, 7) + Rational(1, 3)\nprint(q)`,
    (n) => `frac = Fraction(${n}, 9) * 3\nfrac`,
    () => `t = (a, [1, 2])\nt[1].append(3)\nprint(t)`,
    () => `s = set(a)\ns.add(99)\nsorted(s)`,
    (n) => `for i in range(3):\n    print(i * ${n}, end=",")`,
    () => `# just a comment`,
    () => `total = 0\nfor v in a:\n    total += v\ntotal / 3`,
    (n) => `1 / ${n % 3}`,
    () => `undefined_name + 1`,
    () => `class P:\n    def __init__(self, v):\n        self.v = v\np = P(3)\np.v += 1\nprint(p.v)`,
    () => `gen = (i * i for i in range(5))\nnext(gen)`,
    () => `next(gen)`,
    () => `c = Counter("abracadabra")\nc["a"] += 1\nc.most_common(2)`,
    () => `dd = defaultdict(list)\ndd["x"].append(1)\ndict(dd)`,
    () => `dq = deque([1, 2, 3], maxlen=3)\ndq.append(4)\nlist(dq)`,
    () => `import decimal\ndecimal.getcontext().prec = 5\ndecimal.Decimal(1) / 7`,
    () => `import decimal\ndecimal.Decimal(2) / 3`,
    () => `a.extend(a)\nprint(a[-1])`,
    () => `global a\na = [0]`,
    () => `w = 3\n`,
    () => `math.factorial(20) if "math" in dir() else 0`,
    () => `"0.1234567"`,
    () => `print("x" * 30)\nprint(str(3.0000001))`,
    () => `h = f\nh(100)`,
    () => `raise ValueError("stop here")`,
];

function trajectory(seed: number, length: number): string[] {
    const random = rng(seed);
    const pick = (n: number): number => Math.floor(random() * n);
    let program = FIRST_STEPS[pick(FIRST_STEPS.length)] as string;
    const programs = [program];
    for (let step = 1; step < length; step++) {
        const make = STEPS[pick(STEPS.length)] as (n: number) => string;
        program = `${program}\n${make(1 + pick(9))}`;
        programs.push(program);
    }
    return programs;
}

function comparable(result: ExecResult): Omit<ExecResult, "durationMs"> {
    const { durationMs: _ignored, ...rest } = result;
    return rest;
}

describe("prefix reuse", () => {
    let reusing: Sandbox;
    let full: Sandbox;
    beforeAll(async () => {
        [reusing, full] = await Promise.all([
            createSandbox({ workers: 1, spares: 1, timeoutMs: 10_000 }),
            createSandbox({ workers: 1, spares: 1, timeoutMs: 10_000, prefixReuse: false }),
        ]);
    });
    afterAll(async () => {
        await reusing?.dispose();
        await full?.dispose();
    });

    it("gives every generated program the observation a full run gives (a tree: 3 candidates per node, one continues)", async () => {
        let compared = 0;
        for (let t = 0; t < 12; t++) {
            const random = rng(1000 + t);
            const pick = (n: number): number => Math.floor(random() * n);
            let node = FIRST_STEPS[pick(FIRST_STEPS.length)] as string;
            expect(comparable(await reusing.run(node))).toEqual(comparable(await full.run(node)));
            for (let depth = 1; depth < 9; depth++) {
                const candidates = [0, 1, 2].map((j) => {
                    const n = 1 + pick(9);
                    const roll = pick(4);
                    const step =
                        roll === 0
                            ? (STEPS[pick(STEPS.length)] as (n: number) => string)(n)
                            : roll === 1 || j === 0
                              ? `${(MUTATIONS[pick(MUTATIONS.length)] as (n: number) => string)(n)}\n${(READS[pick(READS.length)] as () => string)()}`
                              : (READS[pick(READS.length)] as () => string)();
                    return `${node}\n${step}`;
                });
                // Candidates of one node share its prefix; each must see the prefix's objects as a full run would.
                for (const program of candidates) {
                    const [mine, reference] = await Promise.all([reusing.run(program), full.run(program)]);
                    expect(comparable(mine), program).toEqual(comparable(reference));
                    compared += 1;
                }
                node = candidates[pick(3)] as string;
            }
        }
        expect(compared).toBe(288);
        // The test must exercise reuse: most candidates run only their new step.
        expect(reusing.stats().reused).toBeGreaterThan(120);
        expect(full.stats().reused).toBe(0);
    }, 600_000);

    it("gives the same observations when a node's candidates arrive together (siblings share one prefix)", async () => {
        let compared = 0;
        for (let i = 0; i < 8; i++) {
            const base = trajectory(5000 + i, 4);
            const prefix = base[base.length - 1] as string;
            const siblings = [0, 1, 2, 3, 4, 5].map((j) => `${prefix}\n${(STEPS[(i * 7 + j * 5) % STEPS.length] as (n: number) => string)(j + 2)}`);
            for (const program of base) await reusing.run(program);
            const mine = await Promise.all(siblings.map((program) => reusing.run(program)));
            const reference = await Promise.all(siblings.map((program) => full.run(program)));
            mine.forEach((result, j) => expect(comparable(result), siblings[j]).toEqual(comparable(reference[j] as ExecResult)));
            compared += siblings.length;
        }
        expect(compared).toBe(48);
    }, 300_000);

    it("a sibling that mutates the shared prefix's objects does not change what the next sibling sees", async () => {
        const prefix = "items = [1, 2, 3]\nconfig = {'scale': 2}\ndef total():\n    return sum(items) * config['scale']";
        await reusing.run(prefix);
        const before = reusing.stats().reused;
        const mutate = await reusing.run(`${prefix}\nitems.append(100)\nconfig['scale'] = 10\nprint(total())`);
        const read = await reusing.run(`${prefix}\nprint(total())`);
        expect(mutate.observation).toBe("1060");
        expect(read.observation).toBe("12");
        expect(reusing.stats().reused - before).toBe(2);
    });

    it("the search's programs for consecutive code steps of a trajectory reuse their prefix", async () => {
        const steps = ["<code>\n# Step 1\nvalues = [3, 4]\n<end_of_step>", "\n# Step 2\nvalues.append(5)\n<end_of_step>", "\n# Step 3\nprint(sum(values))\n<end_of_code>"];
        const programs = steps.map((step, i) => programForStep(steps.slice(0, i), step));
        const before = reusing.stats().reused;
        const results = [];
        for (const program of programs) results.push(await reusing.run(program));
        expect(results.map((result) => result.observation)).toEqual(["", "", "12"]);
        expect(reusing.stats().reused - before).toBe(2);
    });

    it("keeps earlier output, random state and the time already spent", async () => {
        const prefix = "import random\nprint('first')\nfirst = random.random()";
        await reusing.run(prefix);
        const next = await reusing.run(`${prefix}\nprint(random.random() != first)`);
        const reference = await full.run(`${prefix}\nprint(random.random() != first)`);
        expect(next.observation).toBe("first\nTrue");
        expect(next).toMatchObject({ observation: reference.observation });
        const slow = "import time\ntime.sleep(0.6)\nx = 1";
        await reusing.run(slow, { timeoutMs: 1000 });
        const extended = await reusing.run(`${slow}\ntime.sleep(0.6)\nprint(x)`, { timeoutMs: 1000 });
        expect(extended).toMatchObject({ ok: false, timedOut: true });
    });
});
