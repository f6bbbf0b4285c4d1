import Database from "better-sqlite3";
import { RstarError } from "../errors/index.js";

export interface StoredProblem {
    position: number;
    seq: number;
    result: Record<string, unknown>;
    tree: Record<string, unknown>;
}

/**
 * The append-only store of finished problems (SQLite, WAL, synchronous FULL): a problem is either wholly in it or not
 * at all, and the primary key on its dataset position makes a duplicate impossible. The JSONL exports are derived
 * from it, so after a crash the store is the truth.
 */
export class RunStore {
    private readonly db: Database.Database;
    private readonly insert: Database.Statement | null = null;

    /**
     * `readOnly` opens an existing store for reading only (a viewer, grading): no schema or journal change, safe while
     * a search writes to it (WAL readers see each committed problem).
     */
    constructor(readonly path: string, options: { readOnly?: boolean } = {}) {
        try {
            this.db = options.readOnly === true ? new Database(path, { readonly: true, fileMustExist: true }) : new Database(path);
        } catch (error) {
            throw new RstarError("RUN_STORE", `cannot open the run store ${path}: ${(error as Error).message}`, { cause: error });
        }
        if (options.readOnly === true) return;
        this.db.pragma("journal_mode = WAL");
        this.db.pragma("synchronous = FULL");
        this.db.exec(`CREATE TABLE IF NOT EXISTS problems (
            position INTEGER PRIMARY KEY,
            seq INTEGER NOT NULL UNIQUE,
            finished_at TEXT NOT NULL,
            result TEXT NOT NULL,
            tree TEXT NOT NULL
        )`);
        this.insert = this.db.prepare("INSERT INTO problems (position, seq, finished_at, result, tree) VALUES (?, ?, ?, ?, ?)");
    }

    finishedPositions(): Set<number> {
        const rows = this.db.prepare("SELECT position FROM problems").all() as { position: number }[];
        return new Set(rows.map((row) => row.position));
    }

    count(): number {
        return (this.db.prepare("SELECT COUNT(*) AS n FROM problems").get() as { n: number }).n;
    }

    /** Records a finished problem; returns its sequence number (finish order, 1-based). */
    add(position: number, result: Record<string, unknown>, tree: Record<string, unknown>): number {
        if (this.insert === null) throw new RstarError("RUN_STORE", `${this.path} was opened read-only`);
        const seq = this.count() + 1;
        try {
            this.insert.run(position, seq, new Date().toISOString(), JSON.stringify(result), JSON.stringify(tree));
        } catch (error) {
            throw new RstarError("RUN_STORE", `cannot record problem ${position} in ${this.path}: ${(error as Error).message}`, { cause: error });
        }
        return seq;
    }

    /** One finished problem by its dataset position, or null when it is not (yet) in the store. */
    get(position: number): StoredProblem | null {
        const row = this.db.prepare("SELECT position, seq, result, tree FROM problems WHERE position = ?").get(position) as
            | { position: number; seq: number; result: string; tree: string }
            | undefined;
        if (row === undefined) return null;
        return { position: row.position, seq: row.seq, result: JSON.parse(row.result) as Record<string, unknown>, tree: JSON.parse(row.tree) as Record<string, unknown> };
    }

    /** Finished problems, and those among them that failed (their record carries an error). */
    counts(): { finished: number; failed: number } {
        const row = this.db.prepare("SELECT COUNT(*) AS n, COALESCE(SUM(json_extract(result, '$.error') IS NOT NULL), 0) AS failed FROM problems").get() as { n: number; failed: number };
        return { finished: row.n, failed: row.failed };
    }

    /** Every finished problem's result record (no trees: cheaper), by dataset position. */
    *results(): Generator<{ position: number; result: Record<string, unknown> }> {
        const rows = this.db.prepare("SELECT position, result FROM problems ORDER BY position").iterate() as IterableIterator<{ position: number; result: string }>;
        for (const row of rows) yield { position: row.position, result: JSON.parse(row.result) as Record<string, unknown> };
    }

    /** Every finished problem in finish order (or dataset order: "position"), one at a time (bounded memory). */
    *all(order: "finish" | "position" = "finish"): Generator<StoredProblem> {
        const rows = this.db.prepare(`SELECT position, seq, result, tree FROM problems ORDER BY ${order === "position" ? "position" : "seq"}`).iterate() as IterableIterator<{
            position: number;
            seq: number;
            result: string;
            tree: string;
        }>;
        for (const row of rows) {
            yield { position: row.position, seq: row.seq, result: JSON.parse(row.result) as Record<string, unknown>, tree: JSON.parse(row.tree) as Record<string, unknown> };
        }
    }

    close(): void {
        this.db.close();
    }
}
