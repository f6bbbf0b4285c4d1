import { chmodSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const PREFIX = "rstar-sandbox-";

/**
 * A sandbox's scratch directory, under the system temp directory, named after the owning process
 * (`rstar-sandbox-<pid>-XXXXXX`). Each worker gets `w<n>` inside it (created and, when root is dropped, owned by the
 * worker), and each program runs in `w<n>/run`, emptied after any program that wrote there. Mode 0711 lets a worker
 * that dropped to nobody reach its own folder but not list the others. Folders left by processes that died without
 * disposing their sandbox (kill -9) are removed when the next sandbox starts.
 */
export function createScratchRoot(): string {
    removeOrphans();
    const root = mkdtempSync(join(tmpdir(), `${PREFIX}${process.pid}-`));
    chmodSync(root, 0o711);
    return root;
}

export function removeScratch(path: string): void {
    try {
        rmSync(path, { recursive: true, force: true, maxRetries: 2 });
    } catch {
        // Best effort: a leftover temp folder is harmless and the next sandbox start removes it.
    }
}

function removeOrphans(): void {
    let names: string[];
    try {
        names = readdirSync(tmpdir()).filter((name) => name.startsWith(PREFIX));
    } catch {
        return;
    }
    for (const name of names) {
        const pid = Number(/^rstar-sandbox-(\d+)-/.exec(name)?.[1]);
        // Folders without a pid come from older versions: leave them to the OS.
        if (Number.isInteger(pid) && pid > 0 && !processAlive(pid)) removeScratch(join(tmpdir(), name));
    }
}

function processAlive(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch (error) {
        return (error as NodeJS.ErrnoException).code === "EPERM";
    }
}
