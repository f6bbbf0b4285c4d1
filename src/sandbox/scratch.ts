import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * A sandbox's scratch directory, under the system temp directory. Each worker gets `w<n>` inside it (created and,
 * when root is dropped, owned by the worker), and each program runs in `w<n>/run`, emptied after any program that
 * wrote there. Mode 0711 lets a worker that dropped to nobody reach its own folder but not list the others.
 */
export function createScratchRoot(): string {
    const root = mkdtempSync(join(tmpdir(), "rstar-sandbox-"));
    chmodSync(root, 0o711);
    return root;
}

export function removeScratch(path: string): void {
    try {
        rmSync(path, { recursive: true, force: true, maxRetries: 2 });
    } catch {
        // Best effort: a leftover temp folder is harmless and the OS cleans the temp directory.
    }
}
