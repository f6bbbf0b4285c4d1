#!/usr/bin/env node
// A CPU-only `npm ci`: the locked dependency tree without node-llama-cpp's GPU prebuilds (CUDA, Vulkan: about 620 MB
// on Linux x64). Plain `npm install` / `npm ci` install them (node-llama-cpp's optional dependencies), so a machine
// with a GPU offloads to it; CI and CPU-only machines use this instead (scripts/setup.sh with RSTAR_CPU_ONLY=1).
//
// How: `npm ci --omit=optional --ignore-scripts` installs every required package, then every optional package of the
// lock that npm would install on this platform (os, cpu, libc), except the GPU prebuilds, is fetched at its locked version with `npm pack`, checked
// against the lock's integrity hash and unpacked where the lock puts it; then `npm rebuild` runs the install scripts and
// `npm run prepare` the build. Needs only Node and npm (no dependency).
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** node-llama-cpp's GPU prebuilds: the packages a CPU-only install leaves out. */
export const GPU_PREBUILD = /^@node-llama-cpp\/[^/]*-(cuda|cuda-ext|vulkan)$/;

function libc() {
    if (process.platform !== "linux") return undefined;
    const report = process.report?.getReport();
    return report?.header?.glibcVersionRuntime ? "glibc" : "musl";
}

/** Whether npm installs a package with these os/cpu/libc fields here (a "!name" entry excludes). */
function matches(field, value) {
    if (field === undefined) return true;
    if (value === undefined) return true;
    const allowed = field.filter((entry) => !entry.startsWith("!"));
    if (field.includes(`!${value}`)) return false;
    return allowed.length === 0 || allowed.includes(value);
}

/** Where `name`, required from the package at lock path `from`, resolves (Node's lookup up the node_modules folders). */
function resolveFrom(packages, from, name) {
    let base = from;
    for (;;) {
        const candidate = `${base === "" ? "" : `${base}/`}node_modules/${name}`;
        if (packages[candidate] !== undefined) return candidate;
        if (base === "") return undefined;
        const cut = base.lastIndexOf("/node_modules/");
        base = cut < 0 ? "" : base.slice(0, cut);
    }
}

/**
 * The optional packages of the lock a plain `npm ci` would install on this platform, minus the GPU prebuilds: an
 * optional package whose os/cpu/libc fit and that an installed package depends on (npm skips the dependencies of a
 * package it skipped, e.g. a wasm fallback's runtime).
 */
export function optionalPackages(lock, platform = { os: process.platform, cpu: process.arch, libc: libc() }) {
    const packages = lock.packages ?? {};
    const fits = (path, entry) => {
        const name = entry.name ?? path.slice(path.lastIndexOf("node_modules/") + "node_modules/".length);
        return !GPU_PREBUILD.test(name) && matches(entry.os, platform.os) && matches(entry.cpu, platform.cpu) && matches(entry.libc, platform.libc);
    };
    const installed = new Set(Object.keys(packages).filter((path) => packages[path].optional !== true && packages[path].link !== true));
    const picked = new Set();
    for (let changed = true; changed; ) {
        changed = false;
        for (const from of [...installed]) {
            const entry = packages[from];
            const names = Object.keys({ ...entry.dependencies, ...entry.optionalDependencies, ...entry.peerDependencies });
            for (const name of names) {
                const path = resolveFrom(packages, from, name);
                if (path === undefined || installed.has(path) || packages[path].link === true || !fits(path, packages[path])) continue;
                installed.add(path);
                picked.add(path);
                changed = true;
            }
        }
    }
    return [...picked].sort().map((path) => {
        const entry = packages[path];
        return { path, name: entry.name ?? path.slice(path.lastIndexOf("node_modules/") + "node_modules/".length), version: entry.version, integrity: entry.integrity };
    });
}

function main() {
    const lock = JSON.parse(readFileSync("package-lock.json", "utf8"));
    const npm = process.platform === "win32" ? "npm.cmd" : "npm";
    const quiet = ["--no-audit", "--no-fund"];
    // Scripts wait until the optional packages are back: the root's `prepare` (the build) needs e.g. rolldown's native
    // binding, itself an optional package, and node-llama-cpp's postinstall looks for its CPU prebuild.
    execFileSync(npm, ["ci", "--omit=optional", "--ignore-scripts", ...quiet], { stdio: "inherit" });
    const packages = optionalPackages(lock);
    const scratch = mkdtempSync(join(tmpdir(), "rstar-cpu-only-"));
    try {
        for (const pkg of packages) {
            const out = execFileSync(npm, ["pack", `${pkg.name}@${pkg.version}`, "--pack-destination", scratch, "--json", "--silent"], { encoding: "utf8" });
            const file = join(scratch, JSON.parse(out)[0].filename);
            if (pkg.integrity !== undefined) {
                const [algorithm, expected] = pkg.integrity.split(" ")[0].split(/-(.*)/s);
                const actual = createHash(algorithm).update(readFileSync(file)).digest("base64");
                if (actual !== expected) throw new Error(`${pkg.name}@${pkg.version}: integrity ${algorithm}-${actual} is not the locked ${pkg.integrity}`);
            }
            rmSync(pkg.path, { recursive: true, force: true });
            mkdirSync(pkg.path, { recursive: true });
            execFileSync("tar", ["-xzf", file, "-C", pkg.path, "--strip-components=1"], { stdio: "inherit" });
            if (!existsSync(join(pkg.path, "package.json"))) throw new Error(`${pkg.name}@${pkg.version}: unpacked without a package.json`);
        }
    } finally {
        rmSync(scratch, { recursive: true, force: true });
    }
    // The install scripts `npm ci` skipped (native modules such as better-sqlite3), then the root's prepare (the build).
    execFileSync(npm, ["rebuild", ...quiet], { stdio: "inherit" });
    execFileSync(npm, ["run", "prepare"], { stdio: "inherit" });
    process.stderr.write(`npm-ci-cpu-only: installed without node-llama-cpp's GPU prebuilds; optional packages added: ${packages.map((pkg) => `${pkg.name}@${pkg.version}`).join(", ")}\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) main();
