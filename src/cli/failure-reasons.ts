import { existsSync, readFileSync } from "node:fs";
import { parseJson } from "../util/index.js";

export interface FailureReason {
    /** The error code (or "error" when the record has none). */
    code: string;
    /** Problems that failed this way. */
    count: number;
    /** The first such problem's message. */
    example: string;
}

/**
 * Why problems failed, counted by reason, from a run's results.jsonl (every problem of the run, resumed ones included).
 * Messages that differ only in their numbers ("the prompt is 1041 tokens", "… 1077 tokens") count as one reason.
 */
export function failureReasons(resultsPath: string): FailureReason[] {
    if (!existsSync(resultsPath)) return [];
    const reasons = new Map<string, FailureReason>();
    for (const line of readFileSync(resultsPath, "utf8").split("\n")) {
        if (line.trim() === "") continue;
        const parsed = parseJson(line);
        if (!parsed.ok || typeof parsed.value !== "object" || parsed.value === null) continue;
        const error = (parsed.value as { error?: unknown }).error;
        if (typeof error !== "object" || error === null) continue;
        const { code, message } = error as { code?: unknown; message?: unknown };
        const text = typeof message === "string" ? message : "unknown error";
        const codeText = typeof code === "string" ? code : "error";
        const key = `${codeText}\u0000${text.replace(/\d+(\.\d+)?/g, "#")}`;
        const reason = reasons.get(key);
        if (reason) reason.count += 1;
        else reasons.set(key, { code: codeText, count: 1, example: text });
    }
    return [...reasons.values()].sort((a, b) => b.count - a.count);
}

/** Summary lines: `failed     3 × INVALID_ARGUMENT: the prompt is 1041 tokens …`. */
export function formatFailureReasons(reasons: FailureReason[]): string[] {
    return reasons.map((reason, index) => {
        const example = reason.example.length > 200 ? `${reason.example.slice(0, 197)}...` : reason.example;
        return `${index === 0 ? "failed    " : "          "} ${reason.count} × ${reason.code}: ${example}`;
    });
}
