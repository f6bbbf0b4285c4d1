import { readFile } from "node:fs/promises";
import { z } from "zod";
import { InputError, RstarError } from "../errors/index.js";
import { parseJson } from "../util/index.js";

export interface DatasetProblem {
    /** 0-based position in the file: the problem's identity within a run. */
    position: number;
    /** 1-based line where the record starts, for error messages. */
    line: number;
    question: string;
    /** Gold answer(s); null when the record has none. */
    answer: string | string[] | null;
    /** The record as read, every field kept (exports copy them). */
    record: Record<string, unknown>;
}

const recordSchema = z.looseObject({
    question: z.string().refine((value) => value.trim() !== "", "must be a non-empty string"),
    answer: z.union([z.string(), z.number(), z.array(z.union([z.string(), z.number()])).min(1), z.null()]).optional(),
});

/**
 * Reads a dataset: a JSON array of records or JSONL (one record per line), each with `question` and optionally
 * `answer` (string, number or list of acceptable answers). The files in shared/data/benchmarks load as they are.
 * A bad record fails the whole load with an InputError naming the file, line and field.
 */
export async function loadDataset(path: string): Promise<DatasetProblem[]> {
    let text: string;
    try {
        text = await readFile(path, "utf8");
    } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        throw new RstarError(code === "ENOENT" ? "FILE_NOT_FOUND" : "INVALID_INPUT", `cannot read dataset ${path}: ${(error as Error).message}`, { cause: error });
    }
    const entries = text.trimStart().startsWith("[") ? arrayEntries(path, text) : lineEntries(path, text);
    return entries.map((entry, position) => toProblem(path, entry.line, entry.value, position));
}

function toProblem(file: string, line: number, value: unknown, position: number): DatasetProblem {
    const parsed = recordSchema.safeParse(value);
    if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const field = issue?.path.join(".") || undefined;
        const problem =
            issue?.code === "invalid_type" && issue.path.length === 0
                ? "each record must be a JSON object with a question"
                : issue?.code === "invalid_type" && (issue.input === undefined)
                  ? "is missing"
                  : (issue?.message ?? "is invalid");
        throw new InputError(problem, { file, line, ...(field ? { field } : {}) });
    }
    const raw = parsed.data.answer;
    const answer = raw === undefined || raw === null ? null : Array.isArray(raw) ? raw.map(String) : String(raw);
    return { position, line, question: parsed.data.question, answer, record: value as Record<string, unknown> };
}

function lineEntries(file: string, text: string): { line: number; value: unknown }[] {
    const entries: { line: number; value: unknown }[] = [];
    text.split("\n").forEach((raw, index) => {
        if (raw.trim() === "") return;
        const parsed = parseJson(raw);
        if (!parsed.ok) throw new InputError(parsed.error, { file, line: index + 1 });
        entries.push({ line: index + 1, value: parsed.value });
    });
    return entries;
}

function arrayEntries(file: string, text: string): { line: number; value: unknown }[] {
    const parsed = parseJson(text);
    if (!parsed.ok) throw new InputError(parsed.error, { file });
    if (!Array.isArray(parsed.value)) throw new InputError("a JSON dataset must be an array of records", { file, line: 1 });
    const lines = elementStartLines(text);
    return parsed.value.map((value, index) => ({ line: lines[index] ?? 1, value }));
}

/** 1-based line where each top-level array element starts (a small scanner: JSON.parse keeps no positions). */
function elementStartLines(text: string): number[] {
    const lines: number[] = [];
    let line = 1;
    let depth = 0;
    let inString = false;
    let expectingElement = false;
    for (let index = 0; index < text.length; index += 1) {
        const char = text[index];
        if (char === "\n") line += 1;
        if (inString) {
            if (char === "\\") index += 1;
            else if (char === '"') inString = false;
            continue;
        }
        if (char === " " || char === "\t" || char === "\r" || char === "\n") continue;
        if (depth === 1 && expectingElement && char !== "]") {
            lines.push(line);
            expectingElement = false;
        }
        if (char === '"') inString = true;
        else if (char === "[" || char === "{") {
            depth += 1;
            if (depth === 1) expectingElement = true;
        } else if (char === "]" || char === "}") depth -= 1;
        else if (char === "," && depth === 1) expectingElement = true;
    }
    return lines;
}
