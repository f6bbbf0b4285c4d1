import { readFileSync } from "node:fs";
import { join } from "node:path";

type JsonRecord = Record<string, unknown>;

/**
 * A finished search run's trees and results in a comparable form: lines come out in finishing order, so trees are
 * sorted by id and results by dataset index, and `duration_ms` (wall time) is dropped.
 */
export function runOutputs(out: string): { trees: JsonRecord[]; results: JsonRecord[] } {
    const lines = (file: string) => readFileSync(join(out, file), "utf8").trim().split("\n").map((line) => JSON.parse(line) as JsonRecord);
    const trees = lines("trees.jsonl").sort((a, b) => String(a["id"]).localeCompare(String(b["id"])));
    const results = lines("results.jsonl")
        .sort((a, b) => Number(a["index"]) - Number(b["index"]))
        .map(({ duration_ms: _duration, ...rest }) => rest);
    return { trees, results };
}
