import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSandbox, type Sandbox } from "../../src/sandbox/index.js";

// Observation text must match the official rStar python tool (see docs/sandbox.md for deliberate differences).
describe("sandbox observations", () => {
    let sandbox: Sandbox;
    beforeAll(async () => {
        sandbox = await createSandbox({ workers: 1, spares: 1, timeoutMs: 5000 });
    });
    afterAll(async () => {
        await sandbox?.dispose();
    });

    const cases: [string, string, string][] = [
        ["stdout", "print(2 + 3)", "5"],
        ["value of a final bare expression", "x = 21\nx * 2", "42"],
        ["value wins over stdout", "print('ignored')\n7", "7"],
        ["None value falls back to stdout", "print('shown')\nNone", "shown"],
        ["print as last statement", "x = 4\nprint(x ** 2)", "16"],
        ["float output is rounded to 4 places", "print(1/3)", "0.3333"],
        ["short float output is kept", "print(0.5)", "0.5"],
        ["non-string float value is not rounded (as rStar)", "1/3", "0.3333333333333333"],
        ["string value that parses as float is rounded", "'0.123456789'", "0.1235"],
        ["integers stay", "print(10**5)", "100000"],
        ["fractions", "from fractions import Fraction\nFraction(1, 3) + Fraction(1, 6)", "1/2"],
        ["sympy", "from sympy import symbols, Eq, solve, sqrt\nx = symbols('x')\nsolve(Eq(sqrt(3*x + 5) / sqrt(6*x + 5), sqrt(5) / 3), x)", "[20/3]"],
        ["multi-line final expression", "def f(a, b):\n    return a + b\nf(1,\n  2)", "3"],
        ["semicolons", "a = 1; b = 2; a + b", "3"],
        ["markdown fence is stripped", "```python\nprint('fenced')\n```", "fenced"],
        ["surrounding whitespace stripped", "\n\n   print('  padded  ')   \n\n", "padded"],
        ["nothing printed", "x = 1", ""],
        ["multi-line string assignment", 's = """\nabc\n"""\nprint(len(s))', "5"],
        ["one namespace: functions see top-level names", "k = 3\ndef g():\n    return k * 2\nprint(g())", "6"],
        ["all prints are captured, without rStar's print-splitting labels", "print(1)\nprint(2)", "1\n2"],
        ["errors", "1/0", "ZeroDivisionError: division by zero"],
        ["error after output shows only the error", "print('partial')\nraise ValueError('bad value')", "ValueError: bad value"],
        ["syntax errors name <unknown> like ast.parse", "x = (", "SyntaxError: '(' was never closed (<unknown>, line 1)"],
        ["sys.exit", "import sys\nsys.exit(3)", "SystemExit: 3"],
        ["deterministic random", "import random\nprint(random.random())", "0.8444"],
    ];
    for (const [name, code, expected] of cases) {
        it(name, async () => {
            const result = await sandbox.run(code);
            expect(result.observation).toBe(expected);
            expect(result.ok).toBe(!/^[A-Za-z]*(Error|Exit): /.test(expected));
            expect(result.error === null).toBe(result.ok);
        });
    }

    it("elides long output to first 512 + ... + last 512 characters, as rStar", async () => {
        const result = await sandbox.run("print('a' * 600 + 'b' * 600)");
        // The text is "a"*600 + "b"*600 + "\n": its last 512 characters are 511 b's and the newline, which strip() removes.
        expect(result.observation).toBe("a".repeat(512) + "..." + "b".repeat(511));
    });

    it("elides a long value the same way", async () => {
        const result = await sandbox.run("'x' * 700 + 'y' * 700");
        expect(result.observation).toBe("x".repeat(512) + "..." + "y".repeat(512));
    });

    it("reports the error type and message separately", async () => {
        const result = await sandbox.run("raise KeyError('k')");
        expect(result).toMatchObject({ ok: false, timedOut: false, error: { type: "KeyError", message: "'k'" }, observation: "KeyError: 'k'" });
        expect(result.durationMs).toBeGreaterThan(0);
    });

    it("gives each program fresh globals", async () => {
        await sandbox.run("leaked = 123");
        const result = await sandbox.run("print(leaked)");
        expect(result.observation).toBe("NameError: name 'leaked' is not defined");
    });

    it("does not let a program's builtins changes reach the next program", async () => {
        await sandbox.run("import builtins\nbuiltins.print = None\n__builtins__['len'] = None");
        expect((await sandbox.run("print(len('abc'))")).observation).toBe("3");
    });

    it("does not let module attribute changes reach the next program", async () => {
        await sandbox.run("import math\nmath.pi = 3");
        await sandbox.run("import math\nsetattr(math, 'e', 2)");
        expect((await sandbox.run("import math\nprint(math.pi, math.e)")).observation).toBe("3.141592653589793 2.718281828459045");
    });

    it("catches rebinding through any syntax: annotated, for-targets, chains through another module, aliases, classes", async () => {
        const before = sandbox.stats().recycled;
        await sandbox.run("import math as m\nm.pi: float = 3");
        await sandbox.run("import fractions\nfor fractions.math.e in [2]: pass");
        await sandbox.run("from fractions import Fraction\nF = Fraction\nF.limit_denominator = None");
        await sandbox.run("import math\nfor m in [math]:\n    m.tau = 6");
        // Each of the four left its worker tainted, so each worker was replaced.
        expect(sandbox.stats().recycled - before).toBe(4);
        expect((await sandbox.run("import math\nfrom fractions import Fraction\nprint(math.pi, math.e, math.tau, Fraction(1, 3).limit_denominator(10))")).observation).toBe(
            "3.141592653589793 2.718281828459045 6.283185307179586 1/3",
        );
    });

    it("does not recycle a worker for attributes of objects the program made itself", async () => {
        const before = sandbox.stats().recycled;
        const result = await sandbox.run(
            "class Point:\n    def __init__(self, x):\n        self.x = x\np = Point(2)\np.y = 3\nfrom decimal import getcontext\ngetcontext().prec = 50\nprint(p.x + p.y)",
        );
        expect(result.observation).toBe("5");
        expect(sandbox.stats().recycled).toBe(before);
    });

    it("does not let numpy or decimal settings reach the next program", async () => {
        await sandbox.run("import numpy as np\nnp.set_printoptions(precision=2)\nnp.seterr(all='raise')");
        await sandbox.run("import decimal\ndecimal.getcontext().prec = 5");
        expect((await sandbox.run("import numpy as np\nprint(np.array([1/3]))")).observation).toBe("[0.33333333]");
        expect((await sandbox.run("from decimal import Decimal\nDecimal(1) / Decimal(3)")).observation).toBe("0.3333333333333333333333333333");
    });
});
