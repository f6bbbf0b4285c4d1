/** The locked dependency tree installs cleanly on the Node versions package.json's engines field promises. */
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

describe("npm ci", () => {
    it("warns about no package's engines field on this Node (EBADENGINE), e.g. cookie@2 wanting Node >= 22", () => {
        const dir = mkdtempSync(join(tmpdir(), "rstar-install-"));
        for (const file of ["package.json", "package-lock.json"]) cpSync(file, join(dir, file));
        // --dry-run resolves the locked tree (engine checks included) without downloading or building anything
        const ran = spawnSync("npm", ["ci", "--dry-run", "--offline", "--ignore-scripts", "--no-audit", "--no-fund"], { cwd: dir, encoding: "utf8", timeout: 120_000 });
        expect(ran.status, ran.stderr).toBe(0);
        expect(`${ran.stdout}\n${ran.stderr}`).not.toContain("EBADENGINE");
    }, 150_000);

    it("the engines field is the Node the locked dev tools need (vite 8: ^20.19)", () => {
        const pkg = JSON.parse(readFileSync("package.json", "utf8")) as { engines: { node: string } };
        const lock = JSON.parse(readFileSync("package-lock.json", "utf8")) as { packages: Record<string, { engines?: { node?: string } }> };
        expect(pkg.engines.node).toBe(">=20.19");
        expect(lock.packages[""]?.engines?.node).toBe(pkg.engines.node);
        expect(lock.packages["node_modules/vite"]?.engines?.node).toMatch(/^\^20\.19\.0/);
    });
});

describe("node-llama-cpp's GPU prebuilds", () => {
    it("a plain npm install gets them: package.json overrides no @node-llama-cpp package, and the lock holds the CUDA and Vulkan prebuilds", () => {
        const pkg = JSON.parse(readFileSync("package.json", "utf8")) as { overrides: Record<string, string> };
        expect(Object.keys(pkg.overrides).filter((name) => name.startsWith("@node-llama-cpp/"))).toEqual([]);
        const lock = JSON.parse(readFileSync("package-lock.json", "utf8")) as { packages: Record<string, { version?: string; optional?: boolean; link?: boolean }> };
        for (const name of ["linux-x64-cuda", "linux-x64-cuda-ext", "linux-x64-vulkan", "win-x64-cuda", "win-x64-vulkan"]) {
            expect(lock.packages[`node_modules/@node-llama-cpp/${name}`]).toMatchObject({ version: "3.21.1", optional: true });
        }
    });

    it("the CPU-only install (scripts/npm-ci-cpu-only.mjs) adds back every optional package npm would install here except them", async () => {
        const { GPU_PREBUILD, optionalPackages } = (await import("../scripts/npm-ci-cpu-only.mjs" as string)) as {
            GPU_PREBUILD: RegExp;
            optionalPackages: (lock: unknown, platform: { os: string; cpu: string; libc?: string }) => { name: string; version: string }[];
        };
        const lock = JSON.parse(readFileSync("package-lock.json", "utf8")) as unknown;
        const linux = optionalPackages(lock, { os: "linux", cpu: "x64", libc: "glibc" }).map((pkg) => pkg.name);
        expect(linux).toContain("@node-llama-cpp/linux-x64");
        expect(linux).toContain("@esbuild/linux-x64");
        expect(linux).toContain("@rolldown/binding-linux-x64-gnu");
        expect(linux.filter((name) => GPU_PREBUILD.test(name))).toEqual([]);
        expect(linux.some((name) => name.includes("darwin") || name.includes("win32") || name.startsWith("@node-llama-cpp/mac"))).toBe(false);
        // a skipped package's own dependencies are skipped too (rolldown's wasm fallback runtime)
        expect(linux).not.toContain("@napi-rs/wasm-runtime");
        const mac = optionalPackages(lock, { os: "darwin", cpu: "arm64" }).map((pkg) => pkg.name);
        expect(mac).toContain("@node-llama-cpp/mac-arm64-metal");
        expect(GPU_PREBUILD.test("@node-llama-cpp/linux-x64-cuda-ext")).toBe(true);
        expect(GPU_PREBUILD.test("@node-llama-cpp/mac-arm64-metal")).toBe(false);
    });
});

describe("package files", () => {
    it("ship the benchmark sets and their license (data/)", () => {
        const pkg = JSON.parse(readFileSync("package.json", "utf8")) as { files: string[] };
        expect(pkg.files).toContain("data");
        expect(readFileSync("data/benchmarks/LICENSE-rStar-eval-data.txt", "utf8")).toContain("MIT License");
    });
});

describe(".gitignore", () => {
    const git = spawnSync("git", ["rev-parse", "--is-inside-work-tree"], { encoding: "utf8" });
    it.skipIf(git.status !== 0)("ignores no tracked file (models/manifest.json and the benchmark data are shipped)", () => {
        const ignored = spawnSync("git", ["ls-files", "--cached", "--ignored", "--exclude-standard"], { encoding: "utf8" });
        expect(ignored.status).toBe(0);
        expect(ignored.stdout.trim()).toBe("");
        const check = spawnSync("git", ["check-ignore", "--no-index", "models/manifest.json", "data/benchmarks/math500_test.json"], { encoding: "utf8" });
        expect(check.stdout.trim()).toBe("");
    });
});
