import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { solveQuestion, startSimulatedPolicyServer } from "../test/support/simulated-policy.js";
import type { BenchRow } from "./harness.js";

/**
 * The official solver itself against `rstar search` with its defaults, both on one simulated OpenAI-compatible server
 * (bench/official-solver.py drives the official code from an export of microsoft/rStar, branch rStar-math).
 */

const root = fileURLToPath(new URL("..", import.meta.url));

interface ProcessResult { stdout: string; stderr: string; code: number | null; seconds: number }

function run(command: string, args: string[]): Promise<ProcessResult> {
    const start = performance.now();
    return new Promise((resolve, reject) => {
        const child = spawn(command, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
        child.stderr.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
        child.on("error", reject);
        child.on("close", (code) => resolve({ stdout, stderr, code, seconds: (performance.now() - start) / 1000 }));
    });
}

function lastJson(result: ProcessResult, what: string): Record<string, unknown> {
    const line = result.stdout.trim().split("\n").at(-1) ?? "";
    if (result.code !== 0 || !line.startsWith("{")) throw new Error(`${what} exited ${result.code}: ${result.stderr.slice(-1500)}`);
    return JSON.parse(line) as Record<string, unknown>;
}

/**
 * Problems whose trees are the same in both files (matched by question): the same node tags, each with the same
 * visit count and Q value. Texts are not compared: the official writes a too-many-errors node's output twice.
 */
function sameTrees(officialPath: string, oursPath: string): number {
    type Tree = Record<string, { visit_count?: number; q_value?: number }>;
    const read = (path: string) => new Map(readFileSync(path, "utf8").trim().split("\n").map((line) => {
        const record = JSON.parse(line) as { question: string; rstar: Tree };
        return [record.question, record.rstar] as const;
    }));
    const ours = read(oursPath);
    let same = 0;
    for (const [question, official] of read(officialPath)) {
        const mine = ours.get(question);
        if (mine === undefined || Object.keys(mine).length !== Object.keys(official).length) continue;
        const close = (a: number | undefined, b: number | undefined) => Math.abs((a ?? 0) - (b ?? 0)) < 1e-9;
        if (Object.entries(official).every(([tag, node]) => mine[tag] !== undefined && mine[tag].visit_count === node.visit_count && close(mine[tag].q_value, node.q_value))) same += 1;
    }
    return same;
}

export interface OfficialComparison { rows: BenchRow[]; notes: string[] }

/**
 * `count` different questions (the official solver keys its trees by question, so repeats would collapse): 2 to 7
 * numbers of 2-48 added or multiplied, as the simulated policy reads them.
 */
function distinctProblems(count: number): { question: string; gold: string }[] {
    return Array.from({ length: count }, (_, index) => {
        const terms = Array.from({ length: 2 + (index % 6) }, (_, k) => String(2 + ((index * 13 + k * 7) % 47)));
        const question = `Compute ${terms.join(index % 2 === 0 ? " + " : " * ")}.`;
        return { question, gold: String(solveQuestion(question)) };
    });
}

/** Rows for `counts` problems at zero latency and at 50 ms + 15 ms/token, 256 server slots. */
export async function officialSolverRows(repo: string, counts: number[]): Promise<OfficialComparison> {
    const python = process.env["RSTAR_OFFICIAL_PYTHON"] ?? "python3";
    const rows: BenchRow[] = [];
    const dir = mkdtempSync(join(tmpdir(), "rstar-bench-official-"));
    try {
        for (const count of counts) {
            const dataset = join(dir, `problems-${count}.jsonl`);
            const problems = distinctProblems(count);
            if (new Set(problems.map((p) => p.question)).size !== count) throw new Error("bench: repeated questions");
            writeFileSync(dataset, problems.map((p) => JSON.stringify({ question: p.question, answer: p.gold })).join("\n") + "\n");
            for (const [serviceTimeMs, perTokenMs, label] of [[0, 0, "zero latency"], [50, 15, "50 ms + 15 ms/token"]] as const) {
                // ignoreSeed: the official sends no seed and ours one per node; sampling from the prompt alone gives
                // both the same completions for the same prompt, so their trees can be compared.
                const server = await startSimulatedPolicyServer({ stepCorrectProbability: 0.5, codeErrorProbability: 0.2, serviceTimeMs, perTokenMs, slots: 256, ignoreSeed: true });
                try {
                    const officialArgs = [join(root, "bench", "official-solver.py"), "--repo", repo, "--url", server.baseURL, "--model", server.model, "--data", dataset];
                    const official = await run(python, officialArgs);
                    const o = lastJson(official, "the official solver");
                    const officialSeconds = o["seconds"] as number;
                    rows.push({ name: `${count} problems, ${label}: official Solver.solve, pass@any ${(o["pass_any"] as number).toFixed(3)}, ${o["prompts"] as number} prompts`, value: officialSeconds, unit: "s" });
                    const isolatedTrees = join(dir, `official-isolated-${count}.jsonl`);
                    if (serviceTimeMs === 0) {
                        const isolated = lastJson(await run(python, [...officialArgs, "--isolated", "--out", isolatedTrees]), "the official solver (--isolated)");
                        rows.push({
                            name: `${count} problems, ${label}: official Solver.solve, each program in fresh globals, pass@any ${(isolated["pass_any"] as number).toFixed(3)}, ${isolated["prompts"] as number} prompts`,
                            value: isolated["seconds"] as number,
                            unit: "s",
                        });
                    }
                    for (const [flags, what] of [[[], "defaults"], [["--parallel-rollouts", "4"], "--parallel-rollouts 4 (other trees)"]] as const) {
                        const out = join(dir, `ours-${count}-${serviceTimeMs}-${flags.length}`);
                        const ours = await run(process.execPath, [
                            join(root, "bin", "rstar.js"), "search", "--dataset", dataset, "--policy-url", server.baseURL, "--model", server.model,
                            "--preset", "bootstrap", "--prompt", "sft", ...flags, "--out", out, "--json", "--quiet",
                        ]);
                        const s = lastJson(ours, "rstar search");
                        const seconds = (s["durationMs"] as number) / 1000;
                        const same = serviceTimeMs === 0 && flags.length === 0 ? `, the same tree as the official (fresh globals) in ${sameTrees(isolatedTrees, join(out, "trees.jsonl"))}/${count}` : "";
                        rows.push({
                            name: `${count} problems, ${label}: rstar search, ${what}, pass@any ${(s["passAny"] as number).toFixed(3)}${same}`,
                            value: seconds,
                            unit: "s",
                            ratio: { value: officialSeconds / seconds, against: "official (speed-up)" },
                        });
                        if (flags.length === 0) {
                            rows.push({
                                name: `${count} problems, ${label}: whole processes (start-up included), official ${official.seconds.toFixed(1)} s`,
                                value: ours.seconds,
                                unit: "s ours",
                                ratio: { value: official.seconds / ours.seconds, against: "official process (speed-up)" },
                            });
                        }
                    }
                } finally {
                    await server.close();
                }
            }
        }
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
    return {
        rows,
        notes: [
            `official: ${repo}, driven by bench/official-solver.py with ${python} (RSTAR_OFFICIAL_PYTHON): Solver.solve with config/sample_mcts.yaml, the SFT prompt without few-shot examples (the one the simulated policy reads), 8 iterations; vLLM's LLM.generate replaced by the same prompts sent at once to the server; its own per-depth pebble process pool and PythonInterpreter run the code`,
            "ours: `rstar search --preset bootstrap --prompt sft` with every other setting at its default (adaptive concurrency, the Python sandbox pool), its durationMs; both on one simulated policy server (step correct p=0.5, code error p=0.2, 256 slots, latency added per request on its longest sample)",
            "fresh globals (--isolated in bench/official-solver.py): the official PythonInterpreter runs every program in one globals dict per process (tree.py passes its module's globals()), so a name one program defines is visible to the next program the same pool worker runs, of any problem; a step that should fail with NameError may run, which changes the trees from run to run. Isolated, it sends about the prompts ours sends (our sandbox runs every program in fresh globals)",
            "the server samples from the prompt alone (it ignores seeds; the official sends none), so the same prompts get the same completions from both; the official's prompt file is sft_prompt.json's template without the blank line its prompt_wrap leaves after the question (the official trainer, and ours, have none)",
            "same tree: the same node tags with the same visit counts and Q values; the official with its shared globals differs wherever a leaked name lets a step run",
        ],
    };
}
