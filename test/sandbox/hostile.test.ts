import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeVictimFiles, startTrapListener, type TrapListener, type VictimFiles } from "../support/sandbox-fixtures.js";
import { createSandbox, type ExecResult, type Sandbox } from "../../src/sandbox/index.js";

// Every hostile program is followed by a normal program on the same pool, which must still answer correctly.
describe("hostile programs", () => {
    let sandbox: Sandbox;
    let trap: TrapListener;
    let victims: VictimFiles;
    let port = 0;
    let victimDir: string;
    let victim: string;
    const secret = `rstar-secret-${process.pid}-${Date.now()}`;
    let parentSignals = 0;
    const onSignal = (): void => {
        parentSignals += 1;
    };

    beforeAll(async () => {
        process.env["RSTAR_TEST_SECRET"] = secret;
        process.on("SIGUSR1", onSignal);
        process.on("SIGUSR2", onSignal);
        trap = await startTrapListener();
        port = trap.port;
        victims = makeVictimFiles();
        victimDir = victims.dir;
        victim = victims.file;
        sandbox = await createSandbox({ workers: 1, spares: 1, timeoutMs: 2000, graceMs: 1500, memoryBytes: 512 * 1024 ** 2 });
    });

    afterAll(async () => {
        await sandbox?.dispose();
        trap?.close();
        process.off("SIGUSR1", onSignal);
        process.off("SIGUSR2", onSignal);
        delete process.env["RSTAR_TEST_SECRET"];
        victims?.remove();
    });

    async function hostile(code: string, timeoutMs?: number): Promise<ExecResult> {
        const result = await sandbox.run(code, timeoutMs === undefined ? {} : { timeoutMs });
        const after = await sandbox.run("from sympy import Rational\nprint(Rational(1, 3) + Rational(1, 6))");
        expect(after).toMatchObject({ ok: true, observation: "1/2" });
        return result;
    }

    it("infinite loop: times out with a TimeoutError observation", async () => {
        const result = await hostile("while True:\n    pass");
        expect(result).toMatchObject({ ok: false, timedOut: true, error: { type: "TimeoutError" } });
        expect(result.observation).toBe("TimeoutError: Execution of the code snippet has timed out for exceeding 2 seconds.");
    });

    it("long computation inside C code: stopped in time", async () => {
        const started = Date.now();
        const result = await hostile("x = 10 ** (10 ** 9)\nprint(len(str(x)))");
        expect(result).toMatchObject({ ok: false, timedOut: true, error: { type: "TimeoutError" } });
        expect(Date.now() - started).toBeLessThan(15_000);
    });

    it("signal tampering: ignoring and blocking the timer signals still ends in a timeout", async () => {
        const result = await hostile(
            "import signal\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\nsignal.signal(signal.SIGPROF, signal.SIG_IGN)\n" +
                "signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGALRM, signal.SIGPROF])\nwhile True:\n    pass",
        );
        expect(result).toMatchObject({ ok: false, timedOut: true, error: { type: "TimeoutError" } });
    });

    it("signal handler left behind does not reach the next program", async () => {
        await hostile("import signal\nsignal.signal(signal.SIGALRM, lambda *a: None)");
        const result = await sandbox.run("while True:\n    pass", { timeoutMs: 1000 });
        expect(result).toMatchObject({ timedOut: true, error: { type: "TimeoutError" } });
    });

    it("fork bomb: no new process", async () => {
        const result = await hostile("import os\nwhile True:\n    os.fork()");
        expect(result.ok).toBe(false);
        expect(result.observation).toMatch(/^(PermissionError|BlockingIOError|OSError)/);
    });

    it("os.system and subprocess: refused", async () => {
        const system = await hostile(`import os\nos.system('echo pwned > ${victimDir}/system.txt')`);
        expect(system.observation).toMatch(/^PermissionError: /);
        const sub = await hostile(`import subprocess\nsubprocess.run(['touch', '${victimDir}/sub.txt'])`);
        expect(sub.observation).toMatch(/^PermissionError: /);
        const exec = await hostile("import os\nos.execv('/bin/true', ['true'])");
        expect(exec.observation).toMatch(/^PermissionError: /);
        expect(readdirSync(victimDir)).toEqual(["victim.txt"]);
    });

    it("memory bomb: MemoryError, and the next program runs", async () => {
        const result = await hostile("x = []\nwhile True:\n    x.append(bytearray(50 * 1024 * 1024))", 15_000);
        expect(result.ok).toBe(false);
        expect(result.error?.type).toMatch(/^(MemoryError|WorkerCrashed)$/);
        const big = await hostile("x = bytearray(4 * 1024 ** 3)", 15_000);
        expect(big.observation).toMatch(/^MemoryError: /);
    });

    it("socket connect to a real listener on 127.0.0.1: never connects", async () => {
        const result = await hostile(`import socket\ns = socket.create_connection(('127.0.0.1', ${port}), timeout=1)\nprint('connected')`);
        expect(result.ok).toBe(false);
        expect(result.observation).not.toContain("connected");
        const raw = await hostile(`import _socket\ns = _socket.socket()\ns.connect(('127.0.0.1', ${port}))\nprint('connected')`);
        expect(raw.ok).toBe(false);
        await new Promise((resolve) => setTimeout(resolve, 100));
        expect(trap.connections).toBe(0);
    });

    it("writing and deleting files outside scratch: refused, file untouched", async () => {
        const attempts = [
            `open(${JSON.stringify(victim)}, 'w').write('pwned')`,
            `open(${JSON.stringify(victim)}, 'a').write('pwned')`,
            `import os\nos.remove(${JSON.stringify(victim)})`,
            `import os\nos.rename(${JSON.stringify(victim)}, ${JSON.stringify(victim + ".moved")})`,
            `import pathlib\npathlib.Path(${JSON.stringify(victim)}).write_text('pwned')`,
            `import shutil\nshutil.rmtree(${JSON.stringify(victimDir)})`,
            `import os\nfd = os.open(${JSON.stringify(victim)}, os.O_WRONLY | os.O_TRUNC)\nos.write(fd, b'pwned')`,
            `open(${JSON.stringify(join(victimDir, "new.txt"))}, 'w').write('pwned')`,
            `import os\nos.symlink(${JSON.stringify(victim)}, 'link')\nopen('link', 'w').write('pwned')`,
        ];
        for (const code of attempts) {
            const result = await hostile(code);
            expect(result.ok, code).toBe(false);
            expect(result.observation, code).toMatch(/^(PermissionError|OSError|FileNotFoundError)/);
        }
        expect(readFileSync(victim, "utf8")).toBe("original");
        expect(readdirSync(victimDir).sort()).toEqual(["victim.txt"]);
    });

    it("writing inside the program's scratch directory works, and the directory is fresh for the next program", async () => {
        const write = await hostile("open('notes.txt', 'w').write('hello')\nprint(open('notes.txt').read())");
        expect(write.observation).toBe("hello");
        const read = await hostile("import os\nprint(os.listdir('.'))");
        expect(read.observation).toBe("[]");
    });

    it("huge output: elided observation, bounded memory", async () => {
        const result = await hostile("for i in range(200_000):\n    print(i)");
        expect(result.ok).toBe(true);
        expect(result.observation.length).toBeLessThanOrEqual(1027);
        expect(result.observation.startsWith("0\n1\n2\n")).toBe(true);
        expect(result.observation.endsWith("199999")).toBe(true);
        const endless = await hostile("while True:\n    print('x' * 10000)");
        expect(endless.ok).toBe(false);
        expect(endless.error?.type).toMatch(/^(OutputLimitError|TimeoutError)$/);
    });

    it("writing to the protocol descriptor cannot forge an answer", async () => {
        const forged = '{"type": "result", "id": 1, "token": "x", "ok": true, "observation": "forged", "error": null, "timedOut": false, "execMs": 0, "checkMs": 0, "recycle": []}\\n';
        const result = await hostile(`import os\nfor fd in (1, 2, 4):\n    try:\n        os.write(fd, b'${forged}')\n    except OSError:\n        pass\nprint('done')`);
        expect(result.observation).not.toBe("forged");
        expect(result.error === null ? result.observation : result.error.type).toMatch(/^(done|WorkerCrashed)$/);
    });

    it("sys.exit and os._exit", async () => {
        expect((await hostile("import sys\nsys.exit(3)")).observation).toBe("SystemExit: 3");
        expect((await hostile("raise SystemExit('bye')")).observation).toBe("SystemExit: bye");
        const hard = await hostile("import os\nos._exit(3)");
        expect(hard).toMatchObject({ ok: false, error: { type: "WorkerCrashed" } });
        expect(hard.observation).toContain("exited with code 3");
    });

    it("signals to the parent process never arrive", async () => {
        const attempts = [
            "import os, signal\nos.kill(os.getppid(), signal.SIGUSR1)",
            `import os, signal\nos.kill(${process.pid}, signal.SIGUSR2)`,
            "import os, signal\nos.killpg(0, signal.SIGUSR1)",
            `import signal\nsignal.pthread_kill(${process.pid}, signal.SIGUSR1)`,
        ];
        for (const code of attempts) {
            const result = await hostile(code);
            expect(result.ok, code).toBe(false);
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
        expect(parentSignals).toBe(0);
    });

    it("reading the caller's environment: the secret never appears", async () => {
        const attempts = [
            "import os\nprint(dict(os.environ))",
            "print(open('/proc/self/environ').read())",
            "import os\nprint(open(f'/proc/{os.getppid()}/environ').read())",
            `print(open('/proc/${process.pid}/environ').read())`,
            "import os\nout = []\nfor p in os.listdir('/proc'):\n    try:\n        out.append(open(f'/proc/{p}/environ').read())\n    except Exception as e:\n        pass\nprint(out)",
            `print(open('/proc/${process.pid}/cmdline').read())`,
        ];
        for (const code of attempts) {
            const result = await hostile(code);
            expect(result.observation, code).not.toContain(secret);
            expect(JSON.stringify(result), code).not.toContain("RSTAR_TEST_SECRET");
        }
        const env = await hostile("import os\nprint(sorted(os.environ))");
        expect(env.observation).toContain("'PATH'");
        expect(env.observation).not.toContain("RSTAR_TEST_SECRET");
    });

    it("deep recursion: RecursionError, and a raised recursion limit cannot crash the next program", async () => {
        const result = await hostile("def f(n):\n    return f(n + 1)\nf(0)");
        expect(result.observation).toBe("RecursionError: maximum recursion depth exceeded");
        const crash = await hostile("import sys\nsys.setrecursionlimit(10**8)\ndef f(n):\n    return f(n + 1)\nf(0)", 1000);
        expect(crash.ok).toBe(false);
        // Python 3.11 keeps Python frames off the C stack: this runs into the memory or time limit, or crashes.
        expect(crash.error?.type).toMatch(/^(RecursionError|WorkerCrashed|MemoryError|TimeoutError)$/);
    });

    it("ctypes null dereference: refused", async () => {
        const result = await hostile("import ctypes\nctypes.string_at(0)");
        expect(result).toMatchObject({ ok: false });
        expect(result.observation).toMatch(/^PermissionError: sandbox: ctypes\.dlopen is not allowed/);
    });

    it("threads and open files left behind do not reach the next program", async () => {
        await hostile("import threading, time\nthreading.Thread(target=time.sleep, args=(30,), daemon=True).start()");
        await hostile("f = open('keep.txt', 'w')\nimport builtins\nbuiltins.kept = f");
        const result = await sandbox.run("import threading\nprint(threading.active_count())");
        expect(result.observation).toBe("1");
    });

    it("changing the working directory does not reach the next program", async () => {
        await hostile("import os\nos.chdir('/')");
        const result = await sandbox.run("import os\nprint(os.path.basename(os.getcwd()))");
        expect(result.observation).toBe("run");
    });

    it("the pool kept serving and replaced workers", () => {
        const stats = sandbox.stats();
        expect(stats.recycled).toBeGreaterThan(5);
        expect(stats.queued).toBe(0);
        expect(stats.running).toBe(0);
        expect(existsSync(victim)).toBe(true);
    });
});
