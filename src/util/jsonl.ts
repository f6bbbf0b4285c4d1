import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";

export type JsonLine =
    | { line: number; ok: true; value: unknown; raw: string }
    | { line: number; ok: false; error: string; raw: string };

/**
 * Streams a JSONL file (or stdin for "-") line by line, in bounded memory.
 * Blank lines are skipped; a line that is not JSON is reported, never thrown, so callers can keep going.
 */
export async function* readJsonLines(path: string): AsyncGenerator<JsonLine> {
    const input = path === "-" ? process.stdin : createReadStream(path, { encoding: "utf8" });
    const lines = createInterface({ input, crlfDelay: Infinity });
    let lineNumber = 0;
    for await (const raw of lines) {
        lineNumber += 1;
        if (raw.trim() === "") continue;
        const parsed = parseJson(raw);
        if (parsed.ok) yield { line: lineNumber, ok: true, value: parsed.value, raw };
        else yield { line: lineNumber, ok: false, error: parsed.error, raw };
    }
}

export function parseJson(text: string): { ok: true; value: unknown } | { ok: false; error: string } {
    try {
        return { ok: true, value: JSON.parse(text) as unknown };
    } catch (error) {
        return { ok: false, error: `not valid JSON (${error instanceof Error ? error.message : String(error)})` };
    }
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}
