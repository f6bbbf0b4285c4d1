import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulatedPolicyServer, type SimulatedPolicyServer } from "../support/simulated-policy.js";

let server: SimulatedPolicyServer;
const dir = mkdtempSync(join(tmpdir(), "rstar-eval-"));
const stepwise = ["--stop", "<end_of_step>", "<end_of_code>", "<end_of_answer>", "--max-tokens", "256"];

const QUESTIONS = ["Compute 6 * 7 - 2.", "Compute 3 + 4 * 5.", "What is (2 + 3) * 4?", "Compute 9 - 4 + 8.", "Compute 12 * 3 - 7.", "Compute 5 * 5 + 5.", "Compute 8 + 8 * 2.", "Compute 7 * 6 - 13."];
const GOLDS = ["40", "23", "20", "13", "29", "30", "24", "29"];

beforeAll(async () => {
    server = await startSimulatedPolicyServer({ stepCorrectProbability: 0.6, codeErrorProbability: 0.05 });
});
afterAll(async () => server?.close());

function rstar(args: string[], onSpawn?: (pid: number) => void): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
        const child = spawn(process.execPath, ["bin/rstar.js", ...args], { stdio: ["ignore", "pipe", "pipe"] });
        onSpawn?.(child.pid as number);
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
        child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
        child.on("exit", (code, signal) => resolve({ code, signal, stdout, stderr }));
    });
}

function dataset(name: string, golds: readonly string[]): string {
    const path = join(dir, name);
    writeFileSync(path, QUESTIONS.map((question, i) => JSON.stringify({ question, answer: golds[i], level: `Level ${1 + (i % 3)}` })).join("\n") + "\n");
    return path;
}

interface Problem {
    index: number;
    selected_answer: string | null;
    correct: boolean;
    majority_correct: boolean;
    pass_at_k: boolean;
    level: string | null;
    terminals: { answer: string; value: number; correct: boolean }[];
    trajectory: { code: string | null }[];
}
const problemsOf = (out: string) => readFileSync(join(out, "problems.jsonl"), "utf8").trim().split("\n").map((line) => JSON.parse(line) as Problem);
const policy = () => ["--policy-url", server.baseURL, "--model", server.model];

describe("rstar eval", () => {
    it("maj@K: one JSON object with the metrics; numbers agree with the per-problem records; gold never reaches the search", async () => {
        const data = dataset("right.jsonl", GOLDS);
        const out = join(dir, "maj");
        const run = await rstar(["eval", "--dataset", data, "--method", "maj@4", ...policy(), ...stepwise, "--out", out, "--json", "--quiet"]);
        expect(run.code, run.stderr).toBe(0);
        const summary = JSON.parse(run.stdout) as Record<string, unknown> & { accuracy: number; ci95: { low: number; high: number }; problems: number; pass_at_k: { accuracy: number; k: number; oracle: boolean }; majority: { accuracy: number }; scaling: { k: number; method: string; mean: number }[] };
        for (const key of ["method", "problems", "accuracy", "ci95", "pass_at_k", "majority", "weighted", "tokens_per_problem", "seconds_per_problem", "out"]) expect(summary).toHaveProperty(key);
        expect(summary).toMatchObject({ method: "maj@4", problems: 8, out });
        expect(summary.pass_at_k).toMatchObject({ k: 4, oracle: true });
        const problems = problemsOf(out);
        expect(problems).toHaveLength(8);
        // Independent recount: majority by plain string votes (the simulated policy answers with integers), graded by string.
        let correct = 0;
        for (const [i, problem] of problems.entries()) {
            expect(problem.level).toBe(`Level ${1 + (i % 3)}`);
            expect(problem.terminals.length).toBeLessThanOrEqual(4);
            for (const terminal of problem.terminals) expect(terminal.correct).toBe(terminal.answer === GOLDS[i]);
            const votes = new Map<string, number>();
            for (const terminal of problem.terminals) votes.set(terminal.answer, (votes.get(terminal.answer) ?? 0) + 1);
            const most = Math.max(0, ...votes.values());
            const winners = [...votes.entries()].filter(([, count]) => count === most).map(([answer]) => answer);
            if (winners.length === 1) expect(problem.selected_answer).toBe(winners[0]);
            expect(problem.correct).toBe(problem.selected_answer === GOLDS[i]);
            expect(problem.pass_at_k).toBe(problem.terminals.some((terminal) => terminal.answer === GOLDS[i]));
            if (problem.correct) correct += 1;
        }
        expect(summary.accuracy).toBeCloseTo(correct / 8, 12);
        expect(summary.ci95.low).toBeLessThanOrEqual(summary.accuracy);
        expect(summary.ci95.high).toBeGreaterThanOrEqual(summary.accuracy);
        expect(summary.pass_at_k.accuracy).toBeCloseTo(problems.filter((p) => p.pass_at_k).length / 8, 12);
        expect(summary.scaling.map((point) => point.k)).toEqual([1, 1, 1, 2, 2, 2, 4, 4, 4]);
        expect(problems.some((problem) => problem.trajectory.some((step) => step.code !== null))).toBe(true);
        // The search run holds no gold: results.jsonl has answer null and ungraded terminals.
        for (const line of readFileSync(join(out, "results.jsonl"), "utf8").trim().split("\n")) {
            const result = JSON.parse(line) as { answer: unknown; correct: unknown; terminal_answers: { correct: unknown }[] };
            expect(result.answer).toBeNull();
            expect(result.correct).toBeNull();
            for (const terminal of result.terminal_answers) expect(terminal.correct).toBeNull();
        }

        // The same evaluation with every gold answer wrong: identical selections (selection never saw the gold), 0 correct.
        const wrong = dataset("wrong.jsonl", GOLDS.map((gold) => `${Number(gold) + 1000}`));
        const outWrong = join(dir, "maj-wrong");
        const second = await rstar(["eval", "--dataset", wrong, "--method", "maj@4", ...policy(), ...stepwise, "--out", outWrong, "--json", "--quiet"]);
        expect(second.code, second.stderr).toBe(0);
        expect(problemsOf(outWrong).map((p) => p.selected_answer)).toEqual(problems.map((p) => p.selected_answer));
        expect((JSON.parse(second.stdout) as { accuracy: number }).accuracy).toBe(0);
    }, 120_000);

    it("refuses ground-truth terminal rewards, bad methods and a missing dataset with exit 2", async () => {
        const data = dataset("refuse.jsonl", GOLDS);
        const truth = await rstar(["eval", "--dataset", data, "--method", "mcts", ...policy(), "--terminal-reward", "ground-truth", "--out", join(dir, "gt")]);
        expect(truth.code).toBe(2);
        expect(truth.stderr).toContain("gold answer");
        expect(existsSync(join(dir, "gt", "config.json"))).toBe(false);
        const method = await rstar(["eval", "--dataset", data, "--method", "maj@0", ...policy(), "--out", join(dir, "m")]);
        expect(method.code).toBe(2);
        expect(method.stderr).toContain("--method");
        const neither = await rstar(["eval", "--method", "greedy", "--out", join(dir, "n")]);
        expect(neither.code).toBe(2);
    }, 60_000);

    it("kill -9 in the middle and --resume give the same per-problem results as an uninterrupted run", async () => {
        const slow = await startSimulatedPolicyServer({ stepCorrectProbability: 0.6, codeErrorProbability: 0.05, serviceTimeMs: 40 });
        try {
            const data = dataset("resume.jsonl", GOLDS);
            const args = (out: string) => ["eval", "--dataset", data, "--method", "maj@3", "--policy-url", slow.baseURL, "--model", slow.model, ...stepwise, "--concurrency", "1", "--out", out, "--json", "--quiet"];
            const whole = join(dir, "whole");
            expect((await rstar(args(whole))).code).toBe(0);

            const killed = join(dir, "killed");
            let pid = 0;
            const first = rstar(args(killed), (p) => (pid = p));
            const deadline = Date.now() + 60_000;
            while (Date.now() < deadline) {
                const results = join(killed, "results.jsonl");
                if (existsSync(results) && readFileSync(results, "utf8").trim().split("\n").filter(Boolean).length >= 2) break;
                await new Promise((resolve) => setTimeout(resolve, 20));
            }
            process.kill(pid, "SIGKILL");
            const ended = await first;
            expect(ended.signal).toBe("SIGKILL");
            expect(existsSync(join(killed, "eval.json"))).toBe(false);
            const resumed = await rstar([...args(killed), "--resume"]);
            expect(resumed.code, resumed.stderr).toBe(0);
            const strip = (p: Problem) => ({ index: p.index, selected: p.selected_answer, correct: p.correct, terminals: p.terminals });
            expect(problemsOf(whole).length).toBe(8);
            expect(problemsOf(killed).map(strip)).toEqual(problemsOf(whole).map(strip));
            const a = JSON.parse(readFileSync(join(whole, "eval.json"), "utf8")) as { accuracy: number; scaling: unknown };
            const b = JSON.parse(resumed.stdout) as { accuracy: number; scaling: unknown };
            expect(b.accuracy).toBe(a.accuracy);
            expect(b.scaling).toEqual(a.scaling);
        } finally {
            await slow.close();
        }
    }, 180_000);
});
