import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../../src/evolve/process.js";

/** A real Debian redis-server on a random loopback port, its data in a temp directory (AOF on: restarts keep the queue). */
export interface RedisServer {
    /** redis://127.0.0.1:PORT */
    url: string;
    port: number;
    dir: string;
    /** Stops it (SIGTERM: Redis flushes the AOF) and waits for the exit. */
    stop(): Promise<void>;
    /** Starts it again on the same port and directory. */
    start(): Promise<void>;
    /** Stops it for good and removes its directory. */
    close(): Promise<void>;
}

/** Whether redis-server is installed (scripts/setup.sh installs it). */
export function hasRedisServer(): boolean {
    return spawnSync("redis-server", ["--version"], { stdio: "ignore" }).status === 0;
}

export async function startRedisServer(options: { password?: string } = {}): Promise<RedisServer> {
    if (!hasRedisServer()) throw new Error("redis-server is not installed (Debian: apt-get install redis-server; scripts/setup.sh installs it)");
    const dir = mkdtempSync(join(tmpdir(), "rstar-redis-"));
    const port = await freePort();
    let child: ChildProcess | null = null;
    const start = async () => {
        const args = ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--appendonly", "yes", "--save", "", "--daemonize", "no", "--loglevel", "warning"];
        if (options.password !== undefined) args.push("--requirepass", options.password);
        const started = spawn("redis-server", args, { stdio: "ignore" });
        child = started;
        await waitForPort(port, 10_000);
    };
    const stop = async () => {
        const running = child;
        child = null;
        if (running === null || running.exitCode !== null) return;
        const exited = new Promise((resolve) => running.once("exit", resolve));
        running.kill("SIGTERM");
        await exited;
    };
    await start();
    return {
        url: `redis://127.0.0.1:${port}`,
        port,
        dir,
        stop,
        start,
        close: async () => {
            await stop();
            rmSync(dir, { recursive: true, force: true });
        },
    };
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const ok = await new Promise<boolean>((resolve) => {
            const socket = connect(port, "127.0.0.1");
            socket.once("connect", () => {
                socket.end();
                resolve(true);
            });
            socket.once("error", () => resolve(false));
        });
        if (ok) return;
        if (Date.now() > deadline) throw new Error(`redis-server did not listen on ${port} within ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 50));
    }
}
