import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeVictimFiles, startTrapListener, type TrapListener, type VictimFiles } from "../support/sandbox-fixtures.js";
import { createSandbox, type Sandbox } from "../../src/sandbox/index.js";

// The OS layers must hold on their own: these programs run with the audit hook switched off.
// A test whose layer the platform lacks is skipped (the isolation report says which are active).
describe("OS isolation layers without the audit hook", () => {
    let sandbox: Sandbox;
    let trap: TrapListener;
    let victims: VictimFiles;
    let port = 0;
    let victim: string;

    beforeAll(async () => {
        trap = await startTrapListener();
        port = trap.port;
        victims = makeVictimFiles();
        victim = victims.file;
        sandbox = await createSandbox({ workers: 1, spares: 1, timeoutMs: 3000, isolation: { auditHook: false } });
    });
    afterAll(async () => {
        await sandbox?.dispose();
        trap?.close();
        victims?.remove();
    });

    it("reports the audit hook as off", () => {
        expect(sandbox.isolation.auditHook).toBe(false);
    });

    it("network: no connection reaches a listener on 127.0.0.1", async (context) => {
        const { namespaces, landlock } = sandbox.isolation;
        if (!namespaces.includes("net") && !landlock.network) context.skip();
        const result = await sandbox.run(`import socket\ns = socket.create_connection(('127.0.0.1', ${port}), timeout=1)\nprint('connected')`);
        expect(result.ok).toBe(false);
        expect(result.error?.type).toMatch(/Error$/);
        await new Promise((resolve) => setTimeout(resolve, 100));
        expect(trap.connections).toBe(0);
    });

    it("file system: Landlock keeps writes inside the scratch root", async (context) => {
        if (sandbox.isolation.landlock.abi === 0) context.skip();
        const result = await sandbox.run(`open(${JSON.stringify(victim)}, 'w').write('pwned')`);
        expect(result.observation).toMatch(/^PermissionError: \[Errno 13\]/);
        const remove = await sandbox.run(`import os\nos.remove(${JSON.stringify(victim)})`);
        expect(remove.ok).toBe(false);
        expect(readFileSync(victim, "utf8")).toBe("original");
        const inside = await sandbox.run("open('x.txt', 'w').write('ok')\nprint(open('x.txt').read())");
        expect(inside.observation).toBe("ok");
    });

    it("processes: the caller is invisible and cannot be signalled", async (context) => {
        const { namespaces, landlock } = sandbox.isolation;
        if (!namespaces.includes("pid") && !landlock.signals) context.skip();
        const result = await sandbox.run(`import os, signal\nos.kill(${process.pid}, 0)\nprint('reachable')`);
        expect(result.ok).toBe(false);
        expect(result.observation).toMatch(/^(ProcessLookupError|PermissionError)/);
        const environ = await sandbox.run(`print(open('/proc/${process.pid}/environ').read())`);
        expect(environ.ok).toBe(false);
    });

    it("ctypes null dereference crashes only its worker", async () => {
        const result = await sandbox.run("import ctypes\nctypes.string_at(0)");
        expect(result).toMatchObject({ ok: false, error: { type: "WorkerCrashed" } });
        expect(result.observation).toMatch(/killed by SIGSEGV|exited with code/);
        expect(await sandbox.run("print(6 * 7)")).toMatchObject({ ok: true, observation: "42" });
    });
});
