import { appendFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { RunStore, resultRecord, treeRecord } from "../runs/index.js";
import type { ProblemOutcome } from "../search/index.js";

/**
 * Keeps every solved request in a run directory, in `rstar search`'s formats: the SQLite store (`store.sqlite`,
 * committed first), `results.jsonl` and `trees.jsonl` (the official tree format, for the tree viewer and
 * `rstar extract`). A request's position is its order of arrival in the directory.
 */
export class SolveLog {
    private readonly store: RunStore;

    constructor(readonly dir: string) {
        mkdirSync(dir, { recursive: true });
        this.store = new RunStore(join(dir, "store.sqlite"));
    }

    /** Records one solved request; returns its position in the directory. */
    add(question: string, outcome: ProblemOutcome, request: { id: string; model: string }): number {
        const position = this.store.count();
        const problem = { position, line: 0, question, answer: null, record: { question, request_id: request.id, model: request.model } };
        const result = { ...resultRecord(problem, outcome), request_id: request.id, model: request.model };
        const tree = treeRecord(problem, outcome);
        this.store.add(position, result, tree);
        appendFileSync(join(this.dir, "results.jsonl"), JSON.stringify(result) + "\n");
        appendFileSync(join(this.dir, "trees.jsonl"), JSON.stringify(tree) + "\n");
        return position;
    }

    close(): void {
        this.store.close();
    }
}
