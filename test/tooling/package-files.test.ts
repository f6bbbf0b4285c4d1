// What the npm package ships (docs/training.md: the trainers in train/ are in it; the sandbox and grader need python/).
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..", "..");

describe("npm package contents", () => {
    it("ships the Python trainers and helpers the library runs", () => {
        const r = spawnSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: root, encoding: "utf8", timeout: 120_000 });
        expect(r.status, r.stderr).toBe(0);
        const files = (JSON.parse(r.stdout) as Array<{ files: Array<{ path: string }> }>)[0]?.files.map((f) => f.path) ?? [];
        for (const needed of ["train/trainer.py", "train/common.py", "train/rstar_model.py", "python/sandbox_worker.py", "python/grading_cas.py", "models/manifest.json"]) {
            expect(files, needed).toContain(needed);
        }
    });
});
