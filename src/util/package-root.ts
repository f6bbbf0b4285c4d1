import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

let cached: string | undefined;

/** The installed package's root (the folder with package.json), from src/ under vitest or from dist/ when built. */
export function packageRoot(): string {
    if (cached !== undefined) return cached;
    let dir = dirname(fileURLToPath(import.meta.url));
    while (!existsSync(join(dir, "package.json"))) {
        const parent = dirname(dir);
        if (parent === dir) throw new Error("rstar-math: cannot find package.json above " + fileURLToPath(import.meta.url));
        dir = parent;
    }
    cached = dir;
    return dir;
}

/** Path of a file shipped in the package's python/ folder. */
export function pythonAsset(name: string): string {
    return join(packageRoot(), "python", name);
}
