import type { FinishReason } from "../types.js";

/**
 * Chooses the stop string for a completion the server ended with finish_reason "stop" without naming the stop.
 * `candidates` are the requested stops that could have matched (in request order); return one of them, or `null`
 * for "ended at end-of-sequence". Used for llama.cpp's server and Ollama, which do not report the stop.
 */
export type StopResolver = (text: string, candidates: readonly string[]) => string | null;

/** What the server said about the stop: a string or token id; `null` = "no stop string" (EOS); `undefined` = nothing. */
export type ReportedStop = string | number | null | undefined;

export interface ResolvedStop {
    text: string;
    stop: string | null;
    stopInferred: boolean;
}

/**
 * Settles `text` (never including the stop string) and `stop` for one choice. The rules, in order:
 * 1. finish "length": no stop.
 * 2. The server named a stop string (vLLM `stop_reason`, SGLang `matched_stop`, llama.cpp `stopping_word`):
 *    that is the stop; it is cut from the end of the text if the server left it there.
 * 3. The server reported a token id or null: no stop string (EOS or a stop token).
 * 4. The server said nothing, and the text ends with a requested stop (server left it in): the longest such stop,
 *    cut from the text.
 * 5. The server said nothing: candidates are the requested stops that do not occur in the text (one that occurs
 *    would have ended generation earlier). None: end-of-sequence. Otherwise `resolver(text, candidates)` when given,
 *    else the first candidate in request order; either way `stopInferred` is true.
 */
export function resolveStop(
    text: string,
    finishReason: FinishReason,
    reported: ReportedStop,
    stops: readonly string[],
    resolver?: StopResolver,
): ResolvedStop {
    if (finishReason === "length") return { text, stop: null, stopInferred: false };
    if (typeof reported === "string" && reported !== "") {
        return { text: text.endsWith(reported) ? text.slice(0, text.length - reported.length) : text, stop: reported, stopInferred: false };
    }
    if (reported !== undefined) return { text, stop: null, stopInferred: false };

    const requested = stops.filter((stop) => stop !== "");
    let trailing: string | null = null;
    for (const stop of requested) if (text.endsWith(stop) && (trailing === null || stop.length > trailing.length)) trailing = stop;
    if (trailing !== null) return { text: text.slice(0, text.length - trailing.length), stop: trailing, stopInferred: false };

    const candidates = requested.filter((stop) => !text.includes(stop));
    if (candidates.length === 0) return { text, stop: null, stopInferred: false };
    if (resolver !== undefined) {
        const chosen = resolver(text, candidates);
        return { text, stop: chosen !== null && candidates.includes(chosen) ? chosen : null, stopInferred: true };
    }
    return { text, stop: candidates[0] ?? null, stopInferred: true };
}
