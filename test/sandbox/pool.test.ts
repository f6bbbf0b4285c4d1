import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSandbox, type Sandbox } from "../../src/sandbox/index.js";
import { RstarError } from "../../src/errors/index.js";

describe("sandbox pool", () => {
    let sandbox: Sandbox;
    beforeAll(async () => {
        sandbox = await createSandbox({ workers: 2, spares: 1, timeoutMs: 3000, graceMs: 500, recycleAfter: 7 });
    });
    afterAll(async () => {
        await sandbox?.dispose();
    });

    it("answers every queued program exactly once, with its own result", async () => {
        const programs = Array.from({ length: 40 }, (_, i) =>
            i % 9 === 4 ? `import os\nos._exit(${i % 5})` : i % 7 === 3 ? "import math\nmath.pi = 0\nprint('rebound')" : `print(${i} * 3)`,
        );
        const results = await Promise.all(programs.map((code) => sandbox.run(code)));
        results.forEach((result, i) => {
            const code = programs[i] as string;
            if (code.includes("_exit")) expect(result.error?.type, code).toBe("WorkerCrashed");
            else if (code.includes("math.pi")) expect(result.observation).toBe("rebound");
            else expect(result.observation).toBe(String(i * 3));
        });
        const stats = sandbox.stats();
        expect(stats.completed).toBe(40);
        expect(stats.running).toBe(0);
        expect(stats.queued).toBe(0);
        expect(stats.crashed).toBeGreaterThanOrEqual(4);
        expect(stats.recycled).toBeGreaterThanOrEqual(stats.crashed + 5);
        expect(stats.recycleReasons["recycleAfter (7 programs)"]).toBeGreaterThan(0);
        expect(await sandbox.run("import math\nmath.pi")).toMatchObject({ observation: "3.141592653589793" });
    });

    it("runs programs in parallel on different workers", async () => {
        // Each program reports when its sleep began and ended: on two workers the intervals overlap,
        // on one they would follow each other. No wall-clock bound, so a loaded machine cannot fail it.
        const program = (tag: string) => `import time\nstart = time.time()\ntime.sleep(1)\nprint('${tag}', start, time.time())`;
        const results = await Promise.all([sandbox.run(program("a")), sandbox.run(program("b"))]);
        const spans = results.map((r) => r.observation.split(" "));
        expect(spans.map((span) => span[0])).toEqual(["a", "b"]);
        const [a, b] = spans.map((span) => [Number(span[1]), Number(span[2])] as const) as [readonly [number, number], readonly [number, number]];
        expect(a[0]).toBeLessThan(b[1]);
        expect(b[0]).toBeLessThan(a[1]);
    });

    it("applies a per-run timeout", async () => {
        const result = await sandbox.run("import time\ntime.sleep(5)", { timeoutMs: 300 });
        expect(result).toMatchObject({ ok: false, timedOut: true, observation: "TimeoutError: Execution of the code snippet has timed out for exceeding 0.3 seconds." });
    });

    it("reports its isolation layers", () => {
        const isolation = sandbox.isolation;
        expect(isolation.platform).toBe(process.platform);
        expect(isolation.auditHook).toBe(true);
        expect(isolation.rlimits["as"]).toBeGreaterThan(1024 ** 3);
        expect(isolation.rlimits["core"]).toBe(0);
        if (process.platform === "linux" && isolation.namespacesUnavailable === null) expect(isolation.namespaces).toEqual(expect.arrayContaining(["net", "pid"]));
        if (isolation.uid !== 0) expect(isolation.privilegesKept).toBeNull();
    });

    it("rejects bad options and bad runs with RstarError codes", async () => {
        await expect(createSandbox({ workers: 0 })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
        await expect(sandbox.run("print(1)", { timeoutMs: -1 })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
        await expect(createSandbox({ python: "/nonexistent/python3", workers: 1, spares: 0 })).rejects.toMatchObject({ code: "SANDBOX_START_FAILED" });
    });

    it("programs pipelined behind one that ends its worker are answered once each, by a fresh worker", async () => {
        const local = await createSandbox({ workers: 1, spares: 1, pipeline: 4, timeoutMs: 1500, graceMs: 500 });
        try {
            const programs = [
                "import os\nos._exit(3)",
                "print(1)",
                "import math\nmath.pi = 0\nprint('rebound')",
                "import math\nprint(round(math.pi, 2))",
                "while True:\n    pass",
                "print(2)",
                "import os\nprint('imported os')",
                "x = [1]\nprint(len(x))",
            ];
            const results = await Promise.all(programs.map((code) => local.run(code)));
            expect(results.map((result) => result.observation)).toEqual([
                "WorkerCrashed: the Python worker exited with code 3 while running the program",
                "1",
                "rebound",
                "3.14",
                "TimeoutError: Execution of the code snippet has timed out for exceeding 1.5 seconds.",
                "2",
                "imported os",
                "1",
            ]);
            const stats = local.stats();
            expect(stats.completed).toBe(programs.length);
            expect(stats.running).toBe(0);
            expect(stats.queued).toBe(0);
            expect(stats.recycled).toBeGreaterThanOrEqual(4);
        } finally {
            await local.dispose();
        }
    });

    it("rejects queued programs on dispose and refuses new ones", async () => {
        const local = await createSandbox({ workers: 1, spares: 0 });
        const running = local.run("import time\ntime.sleep(0.5)\nprint('x')").catch((error: unknown) => error);
        const queued = local.run("print('never')").catch((error: unknown) => error);
        await new Promise((resolve) => setTimeout(resolve, 100));
        await local.dispose();
        const [queuedError, runningError] = await Promise.all([queued, running]);
        expect(RstarError.isInstance(queuedError) && queuedError.code === "SANDBOX_DISPOSED").toBe(true);
        expect(runningError).toMatchObject({ code: "SANDBOX_DISPOSED" });
        await expect(local.run("print(1)")).rejects.toMatchObject({ code: "SANDBOX_DISPOSED" });
    });
});
