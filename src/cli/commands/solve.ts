import type { Command } from "commander";
import { RstarError } from "../../errors/index.js";
import { breadthFirst, solveProblem, type SearchNode } from "../../search/index.js";
import { ExitCode } from "../exit-codes.js";
import { action } from "../run-command.js";
import { addSearchOptions, resolveSettings, type SearchFlags } from "../search-options.js";
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
        .option("--json", "print {answer, correct, selectionSawGold, value, trajectory, terminalAnswers, counters} as JSON");
    addSearchOptions(command, "greedy");
    command.addHelpText("after", "\nExit codes: 0 an answer was found; 1 the search ended without an answer; 2 bad usage; 3 server or Python unavailable.");
    command.action(action("solve", async (question: string, flags: SolveFlags) => solveCommand(question, flags)));
}

async function solveCommand(question: string, flags: SolveFlags) {
    if (question.trim() === "") throw new RstarError("INVALID_ARGUMENT", "the question is empty");
    const settings = resolveSettings(flags);
    const services = await openServices({ ...flags, sandboxWorkers: flags.sandboxWorkers ?? 2 }, settings);
    try {
        const outcome = await solveProblem({ index: 0, question, gold: flags.answer ?? null }, settings, services);
        const chosen = outcome.selected === null ? null : findNode(outcome.root, outcome.selected.tag);
        const trajectory = chosen?.partialSolution() ?? "";
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
                }) + "\n",
            );
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
