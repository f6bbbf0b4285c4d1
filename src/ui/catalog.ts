import { createHash } from "node:crypto";
import { existsSync, lstatSync, readFileSync, readdirSync, realpathSync, statSync } from "node:fs";
import { basename, relative, sep } from "node:path";
import { join } from "node:path";
import { InputError } from "../errors/index.js";
import { RUN_FORMAT } from "../runs/index.js";
import { parseJson } from "../util/index.js";

export type RunKind = "search" | "eval" | "evolve";

/** A run directory found under one of the roots the viewer was given. */
export interface CatalogRun {
    /** Opaque, stable id: the first 12 hex digits of sha256(real path). */
    id: string;
    kind: RunKind;
    /** Real path on disk. */
    dir: string;
    /** Path shown to people: the root's name plus the path below it. */
    path: string;
    /** The evolve run this one belongs to (round searches and evals), else null. */
    parent: string | null;
}

/** How deep below a root the catalog looks for runs (an evolve run's evals are 3 below it). */
const MAX_DEPTH = 6;
/** Directories looked at per scan, at most (a root like / must not make the viewer walk the disk). */
const MAX_DIRECTORIES = 5000;

export function runId(realDir: string): string {
    return createHash("sha256").update(realDir).digest("hex").slice(0, 12);
}

/** Whether `path` is `root` or lies below it (both real paths). */
export function isInside(root: string, path: string): boolean {
    const rel = relative(root, path);
    return rel === "" || (!rel.startsWith("..") && !rel.startsWith(sep) && rel !== "..");
}

/** The roots as real directories; a missing or non-directory root is bad input (exit 2). */
export function resolveRoots(dirs: readonly string[]): string[] {
    if (dirs.length === 0) throw new InputError("give at least one run directory (or a directory holding runs)", { field: "RUN_DIR" });
    return dirs.map((dir) => {
        if (!existsSync(dir)) throw new InputError(`${dir} does not exist`, { file: dir });
        const real = realpathSync(dir);
        if (!statSync(real).isDirectory()) throw new InputError(`${dir} is not a directory`, { file: dir });
        return real;
    });
}

function readJsonObject(path: string): Record<string, unknown> | null {
    try {
        const parsed = parseJson(readFileSync(path, "utf8"));
        return parsed.ok && typeof parsed.value === "object" && parsed.value !== null && !Array.isArray(parsed.value) ? (parsed.value as Record<string, unknown>) : null;
    } catch {
        return null;
    }
}

/** What kind of run a directory holds, if any. */
export function classify(dir: string): RunKind | null {
    const config = join(dir, "config.json");
    if (!existsSync(config)) return null;
    const parsed = readJsonObject(config);
    if (parsed === null) return null;
    if (parsed["format"] === RUN_FORMAT) return existsSync(join(dir, "eval.json")) ? "eval" : "search";
    const hasRound = readdirSafe(dir).some((name) => /^round-\d+$/.test(name));
    if (hasRound || existsSync(join(dir, "report.json"))) return "evolve";
    return null;
}

function readdirSafe(dir: string): string[] {
    try {
        return readdirSync(dir);
    } catch {
        return [];
    }
}

/**
 * Every run under the roots. Symbolic links are followed only when their target stays inside the same root; hidden
 * folders and node_modules are skipped. A search or eval run is a leaf; an evolve run's rounds are looked into.
 */
export function scanRuns(roots: readonly string[]): CatalogRun[] {
    const runs: CatalogRun[] = [];
    const seen = new Set<string>();
    let budget = MAX_DIRECTORIES;
    for (const root of roots) {
        const label = basename(root) || root;
        const visit = (dir: string, depth: number, parent: string | null) => {
            if (budget <= 0 || seen.has(dir)) return;
            budget -= 1;
            seen.add(dir);
            const kind = classify(dir);
            let childParent = parent;
            if (kind !== null) {
                const id = runId(dir);
                const rel = relative(root, dir);
                runs.push({ id, kind, dir, path: rel === "" ? label : `${label}/${rel.split(sep).join("/")}`, parent });
                if (kind !== "evolve") return;
                childParent = id;
            }
            if (depth >= MAX_DEPTH) return;
            for (const name of readdirSafe(dir).sort(naturalCompare)) {
                if (name.startsWith(".") || name === "node_modules") continue;
                const child = join(dir, name);
                let target = child;
                try {
                    const stat = lstatSync(child);
                    if (stat.isSymbolicLink()) {
                        target = realpathSync(child);
                        if (!isInside(root, target)) continue; // a link out of the root is refused
                    }
                    if (!statSync(target).isDirectory()) continue;
                } catch {
                    continue;
                }
                visit(target, depth + 1, childParent);
            }
        };
        visit(root, 0, null);
    }
    return runs;
}

/** "round-10" after "round-9". */
function naturalCompare(a: string, b: string): number {
    return a.localeCompare(b, "en", { numeric: true });
}

/**
 * The real path of a file the viewer reads from a run (`name` is one of a few fixed names), or null when it is
 * missing or a link out of the run's root.
 */
export function runFile(roots: readonly string[], dir: string, name: string): string | null {
    const path = join(dir, name);
    if (!existsSync(path)) return null;
    const real = realpathSync(path);
    return roots.some((root) => isInside(root, real)) && isInside(dir, real) ? real : null;
}
