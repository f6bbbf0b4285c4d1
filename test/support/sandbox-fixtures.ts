import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A TCP listener on 127.0.0.1 that counts (and drops) every connection: sandboxed code must never reach it. */
export interface TrapListener {
    port: number;
    /** Connections accepted so far. */
    readonly connections: number;
    close(): void;
}

export async function startTrapListener(): Promise<TrapListener> {
    let connections = 0;
    const server = createServer((socket) => {
        connections += 1;
        socket.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return {
        port: (server.address() as { port: number }).port,
        get connections() {
            return connections;
        },
        close: () => server.close(),
    };
}

/**
 * A world-writable folder holding `victim.txt` ("original", mode 0666): only the sandbox, not file permissions,
 * protects it. `remove()` deletes it.
 */
export interface VictimFiles {
    dir: string;
    file: string;
    remove(): void;
}

export function makeVictimFiles(): VictimFiles {
    const dir = mkdtempSync(join(tmpdir(), "rstar-victim-"));
    chmodSync(dir, 0o777);
    const file = join(dir, "victim.txt");
    writeFileSync(file, "original");
    chmodSync(file, 0o666);
    return { dir, file, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
