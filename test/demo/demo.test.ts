import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

/** The README's first command, on a small problem count: the shipped models, offline, end to end. */
describe("rstar demo", () => {
    it("solves held-out problems greedily and with MCTS + PPM on the shipped models and prints the table", async () => {
        const out = join(mkdtempSync(join(tmpdir(), "rstar-demo-")), "demo");
        const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
            const child = spawn(process.execPath, ["bin/rstar.js", "demo", "--problems", "3", "--rollouts", "2", "--candidates", "2", "--out", out, "--json"], {
                stdio: ["ignore", "pipe", "pipe"],
            });
            let stdout = "";
            let stderr = "";
            child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
            child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
            child.on("exit", (exit) => resolve({ code: exit ?? -1, stdout, stderr }));
        });
        expect(code, stderr).toBe(0);
        const result = JSON.parse(stdout) as { out: string; rows: { split: string; method: string; accuracy: number; problems: number; dir: string }[] };
        expect(result.rows.map((row) => `${row.split}/${row.method}`)).toEqual(["test/teacher greedy", "test/greedy", "test/MCTS+PPM", "ood/teacher greedy", "ood/greedy", "ood/MCTS+PPM"]);
        for (const row of result.rows) {
            expect(row.problems).toBe(3);
            expect(row.accuracy).toBeGreaterThanOrEqual(0);
            expect(row.accuracy).toBeLessThanOrEqual(1);
            const trees = readFileSync(join(row.dir, "trees.jsonl"), "utf8").trim().split("\n");
            expect(trees).toHaveLength(3);
        }
        // MCTS + PPM used the reward model: its trees carry PPM scores.
        const mcts = result.rows.find((row) => row.method === "MCTS+PPM");
        const tree = JSON.parse(readFileSync(join(mcts!.dir, "trees.jsonl"), "utf8").split("\n")[0]!) as { rstar: Record<string, { reward_score: number | null }> };
        expect(Object.values(tree.rstar).some((node) => typeof node.reward_score === "number")).toBe(true);
        expect(existsSync(join(out, "test-greedy", "store.sqlite"))).toBe(true);
    }, 600_000);
});
