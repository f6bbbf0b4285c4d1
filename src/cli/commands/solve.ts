import type { Command } from "commander";
import { RstarError } from "../../errors/index.js";
import { breadthFirst, solveProblem, type SearchNode } from "../../search/index.js";
import { ExitCode } from "../exit-codes.js";
import { action } from "../run-command.js";
import { addSearchOptions, defaultSettingsBase, resolveSettings, usesShippedPolicy, type SearchFlags } from "../search-options.js";
import { openServices, type ServiceFlags } from "../services.js";

interface SolveFlags extends SearchFlags, ServiceFlags {
    answer?: string;
    json?: boolean;
}

export function register(program: Command): void {
    const command = program
        .command("solve")
        .description("solve one question with a policy server and print the chosen trajectory and answer")
        .argument("<question>", "the question, in quotes")
        .option("--answer <gold>", "the gold answer, to report whether the chosen answer is right")
        .option("--json", "print {answer, correct, selectionSawGold, value, trajectory, terminalAnswers, counters, bestAttempt} as JSON");
    addSearchOptions(command, "greedy (with the shipped policy: one step per request, max depth 16, 256 tokens per step)");
    command.addHelpText(
        "after",
        `
Without --policy or --policy-url the shipped tiny models run offline. They are ~1M-parameter models trained only on the
project's synthetic word problems (docs/synthetic-domain.md; examples in models/heldout/test.jsonl): counts and
money that change through buy/sell/give/pack events. They solve about a quarter of held-out problems greedily, and
nothing outside that domain. When no answer is found, the best attempt (the deepest path: its steps, their outputs
and errors, and why it ended) is printed instead.

Examples (shipped models; a local GGUF, on the GPU when there is one: see rstar search --help for --gpu):
  rstar solve "Aisha has \$92. Aisha buys 3 movie tickets at \$7 each. How much money does Aisha have left?"
  rstar solve --policy ~/models/qwen2.5-math-1.5b-instruct-q4_k_m.gguf "What is 17 * 23 - 5?"

Exit codes: 0 an answer was found; 1 the search ended without an answer; 2 bad usage; 3 server or Python unavailable.`,
    );
    command.action(action("solve", async (question: string, flags: SolveFlags) => solveCommand(question, flags)));
}

async function solveCommand(question: string, flags: SolveFlags) {
    if (question.trim() === "") throw new RstarError("INVALID_ARGUMENT", "the question is empty");
    const settings = resolveSettings(flags, defaultSettingsBase("solve", flags).settings);
    const services = await openServices({ ...flags, sandboxWorkers: flags.sandboxWorkers ?? 2 }, settings);
    try {
        const outcome = await solveProblem({ index: 0, question, gold: flags.answer ?? null }, settings, services);
        const chosen = outcome.selected === null ? null : findNode(outcome.root, outcome.selected.tag);
        const trajectory = chosen?.partialSolution() ?? "";
        const attempt = chosen === null ? bestAttempt(outcome.root) : null;
        if (flags.json) {
            process.stdout.write(
                JSON.stringify({
                    answer: outcome.selected?.answer ?? null,
                    correct: outcome.correct,
                    selectionSawGold: outcome.selectionSawGold,
                    value: outcome.selected?.value ?? null,
                    trajectory,
                    terminalAnswers: outcome.terminalAnswers,
                    counters: outcome.counters,
                    durationMs: Math.round(outcome.durationMs),
                    bestAttempt: attempt,
                }) + "\n",
            );
        } else if (attempt !== null) {
            process.stdout.write(formatAttempt(attempt, usesShippedPolicy(flags)));
        } else {
            process.stdout.write(`${trajectory}\n\nanswer: ${outcome.selected?.answer ?? "(none)"}` + (outcome.correct === null ? "" : ` (${outcome.correct ? "correct" : "wrong"}${outcome.selectionSawGold ? "; chosen by its reward from the gold answer" : ""})`) + "\n");
        }
        return outcome.selected === null ? ExitCode.someRecordsMalformed : ExitCode.ok;
    } finally {
        await services.close();
    }
}

function findNode(root: SearchNode, tag: string): SearchNode | null {
    for (const node of breadthFirst(root)) if (node.tag === tag) return node;
    return null;
}

export interface Attempt {
    /** Steps written on the deepest path (code steps, with their outputs or errors). */
    steps: number;
    trajectory: string;
    /** Why the path ended ("too-many-errors", "invalid-step", "too-deep", ...), and the detail, when known. */
    endedBy: string | null;
    failure: string | null;
    /** Code steps on the path whose program failed. */
    codeErrors: number;
}

/** The deepest path of the tree (first found on ties), as the attempt that got furthest. */
export function bestAttempt(root: SearchNode): Attempt {
    let deepest = root;
    for (const node of breadthFirst(root)) if (node.depth > deepest.depth) deepest = node;
    let codeErrors = 0;
    for (let node: SearchNode | null = deepest; node !== null; node = node.parent) if (node.codeOk === false) codeErrors += 1;
    return { steps: deepest.depth, trajectory: deepest.partialSolution(), endedBy: deepest.terminalReason, failure: deepest.failure, codeErrors };
}

function formatAttempt(attempt: Attempt, shipped: boolean): string {
    const ended = attempt.endedBy === null ? "the search ended" : `ended: ${attempt.endedBy}${attempt.failure ? ` (${attempt.failure})` : ""}`;
    const lines = [
        `no answer found. Best attempt (${attempt.steps} step${attempt.steps === 1 ? "" : "s"}, ${attempt.codeErrors} with code errors; ${ended}):`,
        "",
        attempt.trajectory === "" ? "(the policy wrote no usable step)" : attempt.trajectory,
        "",
        "answer: (none)",
    ];
    if (shipped) lines.push("", "note: the shipped tiny models only solve the synthetic word problems they were trained on (see `rstar solve --help`).");
    return lines.join("\n") + "\n";
}
