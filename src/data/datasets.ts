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

export interface LoadDatasetOptions {
    /** Field that holds the question (default `question`; HF sets often use `problem`). */
    questionField?: string;
    /** Field that holds the gold answer (default `answer`; e.g. `gt`, `solution`'s final answer in `final_answer`). */
    answerField?: string;
    /**
     * Every record must carry a gold answer (ground-truth terminal reward): a record without one fails the load with
     * an InputError naming its file, line and field, instead of scoring every answer −1.
     */
    requireAnswers?: boolean;
}

const questionSchema = z.string().refine((value) => value.trim() !== "", "must be a non-empty string");
const answerSchema = z.union([z.string(), z.number(), z.array(z.union([z.string(), z.number()])).min(1), z.null()]).optional();

/**
 * Reads a dataset: a JSON array of records or JSONL (one record per line), each with `question` and optionally
 * `answer` (string, number or list of acceptable answers). The shipped benchmark files (data/benchmarks) load as they are.
 * Other field names are chosen with `questionField`/`answerField`. A bad record fails the whole load with an InputError
 * naming the file, line and field; so does a file with no records at all.
 */
export async function loadDataset(path: string, options: LoadDatasetOptions = {}): Promise<DatasetProblem[]> {
    let text: string;
    try {
        text = await readFile(path, "utf8");
    } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        throw new RstarError(code === "ENOENT" ? "FILE_NOT_FOUND" : "INVALID_INPUT", `cannot read dataset ${path}: ${(error as Error).message}`, { cause: error });
    }
    const entries = text.trimStart().startsWith("[") ? arrayEntries(path, text) : lineEntries(path, text);
    if (entries.length === 0) throw new InputError("the dataset holds no records (an empty file, an empty array or only blank lines)", { file: path });
    const fields = { question: options.questionField ?? "question", answer: options.answerField ?? "answer" };
    const recordSchema = z.looseObject({ [fields.question]: questionSchema, [fields.answer]: answerSchema });
    return entries.map((entry, position) => toProblem(path, entry.line, entry.value, position, recordSchema, fields, options.requireAnswers ?? false));
}

function toProblem(
    file: string,
    line: number,
    value: unknown,
    position: number,
    recordSchema: z.ZodType<Record<string, unknown>>,
    fields: { question: string; answer: string },
    requireAnswers: boolean,
): DatasetProblem {
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
    const raw = parsed.data[fields.answer] as z.infer<typeof answerSchema>;
    const answer = raw === undefined || raw === null ? null : Array.isArray(raw) ? raw.map(String) : String(raw);
    if (requireAnswers && (answer === null || (typeof answer === "string" && answer.trim() === ""))) {
        const record = value as Record<string, unknown>;
        const others = Object.keys(record).filter((key) => key !== fields.question && key !== fields.answer);
        throw new InputError(
            `${answer === null ? "is missing" : "is empty"}: the terminal reward is ground-truth, so every record needs a gold answer` +
                (others.length > 0 ? ` (the record has ${others.map((key) => `"${key}"`).join(", ")}; name the answer's field with --answer-field)` : "") +
                "; or search without gold answers with --terminal-reward reward-model",
            { file, line, field: fields.answer },
        );
    }
    return { position, line, question: parsed.data[fields.question] as string, answer, record: value as Record<string, unknown> };
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
