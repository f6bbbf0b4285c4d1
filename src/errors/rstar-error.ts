/**
 * Every error the library throws on purpose is an RstarError with a stable `code`.
 * Codes are part of the public contract: they are stored in run files and trees and tested by callers,
 * so a code is never renamed, only added.
 */
export type RstarErrorCode =
    // input and usage
    | "INVALID_ARGUMENT"
    | "INVALID_INPUT"
    | "FILE_NOT_FOUND"
    | "CONFIG_INVALID"
    // environment
    | "PYTHON_UNAVAILABLE"
    // sandbox
    | "SANDBOX_DISPOSED"
    | "SANDBOX_PROTOCOL"
    | "SANDBOX_START_FAILED"
    // grading
    | "GRADER_UNAVAILABLE"
    | "GRADER_TIMEOUT"
    // model backends
    | "NO_SUCH_BACKEND"
    | "BACKEND_UNAVAILABLE"
    | "BACKEND_HTTP"
    | "BACKEND_TIMEOUT"
    | "BACKEND_RESPONSE_INVALID"
    | "BACKEND_MODEL_NOT_FOUND"
    | "ABORTED"
    // runs
    | "RUN_STORE"
    | "RUN_CONFLICT"
    | "INTERNAL"
    // model backends (appended)
    | "BACKEND_DISPOSED"
    /** A model (or its contexts) needs more RAM or VRAM than is free: nothing was loaded. */
    | "INSUFFICIENT_MEMORY"
    // distributed runs (rstar search --queue, rstar worker)
    | "QUEUE_UNAVAILABLE"
    | "QUEUE_JOB_FAILED";

const marker = Symbol.for("rstar-math.error");

export interface RstarErrorOptions {
    cause?: unknown;
    /** Whether retrying the same operation may succeed (network hiccups, overloaded servers). */
    retryable?: boolean;
    details?: Record<string, unknown>;
}

export class RstarError extends Error {
    readonly code: RstarErrorCode;
    readonly retryable: boolean;
    readonly details: Record<string, unknown>;
    private readonly [marker] = true;

    constructor(code: RstarErrorCode, message: string, options: RstarErrorOptions = {}) {
        super(message, options.cause === undefined ? undefined : { cause: options.cause });
        this.name = "RstarError";
        this.code = code;
        this.retryable = options.retryable ?? false;
        this.details = options.details ?? {};
    }

    /** Works across duplicated package copies, unlike `instanceof`. */
    static isInstance(value: unknown): value is RstarError {
        return typeof value === "object" && value !== null && marker in value;
    }

    toJSON(): { name: string; code: RstarErrorCode; message: string; retryable: boolean; details: Record<string, unknown> } {
        return { name: this.name, code: this.code, message: this.message, retryable: this.retryable, details: this.details };
    }
}

/**
 * Bad user input that can be pinned to a place: a file, a line (1-based) and a field.
 * The message always names the place so a user can fix the file without reading code.
 */
export class InputError extends RstarError {
    readonly file: string | undefined;
    readonly line: number | undefined;
    readonly field: string | undefined;

    constructor(problem: string, where: { file?: string; line?: number; field?: string } = {}, options: RstarErrorOptions = {}) {
        super("INVALID_INPUT", formatPlace(where) + problem, {
            ...options,
            details: { ...options.details, file: where.file, line: where.line, field: where.field },
        });
        this.name = "InputError";
        this.file = where.file;
        this.line = where.line;
        this.field = where.field;
    }
}

function formatPlace(where: { file?: string; line?: number; field?: string }): string {
    const parts: string[] = [];
    if (where.file !== undefined) parts.push(where.line === undefined ? where.file : `${where.file}:${where.line}`);
    else if (where.line !== undefined) parts.push(`line ${where.line}`);
    if (where.field !== undefined) parts.push(`field "${where.field}"`);
    return parts.length > 0 ? `${parts.join(", ")}: ` : "";
}

/** A short, human-readable description of anything thrown. */
export function describeError(error: unknown): string {
    if (error instanceof Error) return error.message;
    return String(error);
}
