import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { RunStore } from "../../src/runs/index.js";
import { runRstar } from "../support/cli.js";
import type { SimulatedPolicyServer } from "../support/simulated-policy.js";

export const QUESTIONS = ["Compute 6 * 7 - 2.", "Compute 3 + 4 * 5.", "What is (2 + 3) * 4?", "Compute 9 - 4 + 8.", "Compute 12 * 3 - 7.", "Compute 5 * 5 + 5."];
export const GOLDS = ["40", "23", "20", "13", "29", "30"];

/** The model text planted in the hostile run: it must show as text, never run. */
export const HOSTILE = `<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">`;

export function writeDataset(path: string, count = QUESTIONS.length): string {
    writeFileSync(path, QUESTIONS.slice(0, count).map((question, i) => JSON.stringify({ question, answer: GOLDS[i], level: `Level ${1 + (i % 2)}` })).join("\n") + "\n");
    return path;
}

/** Flags for `rstar search` / `rstar eval` against the simulated policy (one step per request, so the step stops). */
export function policyFlags(server: SimulatedPolicyServer): string[] {
    return ["--policy-url", server.baseURL, "--model", server.model, "--quiet"];
}

/** A real MCTS search run written by `rstar search` (the built CLI). */
export async function searchRun(server: SimulatedPolicyServer, dataset: string, out: string, extra: string[] = []): Promise<void> {
    const run = await runRstar(["search", "--dataset", dataset, "--out", out, ...policyFlags(server), "--prompt", "sft", "--rollouts", "4", "--candidates", "2", "--terminal-reward", "none", ...extra]);
    if (run.code !== 0) throw new Error(`rstar search failed (${run.code}): ${run.stderr}`);
}

/**
 * A run whose one problem's steps carry markup (a model can write anything): written through the real store, with
 * the config and record shapes `rstar search` writes.
 */
export function hostileRun(dir: string): void {
    mkdirSync(dir, { recursive: true });
    writeFileSync(
        join(dir, "config.json"),
        JSON.stringify({ format: "rstar-run/1", createdAt: new Date().toISOString(), dataset: { path: "hostile.jsonl", sha256: "0".repeat(64), problems: 2 }, preset: null, settings: { algorithm: "mcts", voteTopK: 0, answerSelection: "value", terminalReward: "none" }, policy: { id: "fixture", model: "fixture" }, rewardModel: null, versions: {} }),
    );
    const store = new RunStore(join(dir, "store.sqlite"));
    const code = `<code>\n# ${HOSTILE}\nx = "${HOSTILE.replace(/"/g, "'")}"\nprint(x)\n<end_of_code>`;
    store.add(
        0,
        { index: 0, question: `What is ${HOSTILE}?`, answer: "7", selected_answer: HOSTILE, selected_value: 0.5, correct: false, selection_saw_gold: false, pass_any: false, terminal_answers: [{ answer: HOSTILE, value: 0.5, correct: false, tag: "0.1.1" }], rollouts: 1, nodes: 3, requests: 2, prompt_tokens: 10, completion_tokens: 20, code_runs: 1, reward_calls: 0, step_budget_ends: 0, duration_ms: 5, error: null },
        {
            question: `What is ${HOSTILE}?`,
            answer: "7",
            rstar: {
                "0": { text: `What is ${HOSTILE}?`, extra_info: "", action: "", action_input: "", final_answer: "", value: 0, q_value: 0.5, visit_count: 1, kind: "root", terminal_reason: null, correct: null, reward_score: null },
                "0.1": { text: `${code}\n<output>${HOSTILE}<end_of_output>`, extra_info: "", action: "python_interpreter", action_input: code, observation: HOSTILE, final_answer: "", value: 0.5, q_value: 0.5, visit_count: 1, kind: "last-code", terminal_reason: null, correct: null, reward_score: 0.25 },
                "0.1.1": { text: `<answer>The answer is \\boxed{${HOSTILE}}<end_of_answer>`, extra_info: "", action: "", action_input: "", final_answer: HOSTILE, value: 0.5, q_value: 0.5, visit_count: 1, kind: "answer", terminal_reason: "answer", correct: false, reward_score: null },
            },
        },
    );
    store.close();
}

/** An evolve directory as `rstar evolve` lays it out (config.json, report.json, round-1/state.json), around `round-1/search`. */
export function evolveShell(dir: string): void {
    mkdirSync(join(dir, "round-1"), { recursive: true });
    writeFileSync(join(dir, "config.json"), JSON.stringify({ rounds: [{ search: {} }] }));
    writeFileSync(join(dir, "round-1", "state.json"), JSON.stringify({ format: "rstar-evolve-state/1", stages: { sample: { status: "done", seconds: 0.1, note: null }, search: { status: "done", seconds: 2.5, note: null }, "train-sft": { status: "pending", seconds: 0, note: null } } }));
    writeFileSync(join(dir, "report.json"), JSON.stringify({ format: "rstar-evolve-report/1", rounds: [], table: [{ round: 1, problems: 3, coverage: 0.6667, sft_records: 2, ppm_pairs: 4, seconds: 2.6 }] }));
}
