import { RstarError, describeError } from "../errors/index.js";
import { ExitCode, type ExitCodeValue } from "./exit-codes.js";

/** Maps a thrown error to an exit code and a one-line message on stderr. */
export function exitCodeFor(error: unknown): ExitCodeValue {
    if (RstarError.isInstance(error)) {
        switch (error.code) {
            case "INVALID_ARGUMENT":
            case "INVALID_INPUT":
            case "FILE_NOT_FOUND":
            case "CONFIG_INVALID":
            case "RUN_CONFLICT":
                return ExitCode.usage;
            case "PYTHON_UNAVAILABLE":
            case "SANDBOX_START_FAILED":
            case "GRADER_UNAVAILABLE":
            case "BACKEND_UNAVAILABLE":
            case "BACKEND_MODEL_NOT_FOUND":
            case "INSUFFICIENT_MEMORY":
            case "QUEUE_UNAVAILABLE":
                return ExitCode.environment;
            default:
                return ExitCode.internal;
        }
    }
    return ExitCode.internal;
}

/**
 * Wraps a command's action: runs it, sets the exit code it returns (or the one its error maps to),
 * and prints errors as `rstar <command>: message` rather than a stack trace.
 */
export function action<Args extends unknown[]>(
    commandName: string,
    body: (...args: Args) => Promise<ExitCodeValue | void>,
): (...args: Args) => Promise<void> {
    return async (...args: Args) => {
        try {
            const code = await body(...args);
            process.exitCode = code ?? ExitCode.ok;
        } catch (error) {
            const code = exitCodeFor(error);
            process.stderr.write(`rstar ${commandName}: ${describeError(error)}\n`);
            if (code === ExitCode.internal && error instanceof Error && error.stack) process.stderr.write(error.stack + "\n");
            process.exitCode = code;
        }
    };
}

/** Parses a positive integer flag, failing with a usage error that names the flag. */
export function positiveInt(flag: string): (value: string) => number {
    return (value: string) => {
        const parsed = Number(value);
        if (!Number.isInteger(parsed) || parsed <= 0) {
            throw new RstarError("INVALID_ARGUMENT", `${flag} must be a positive integer, got "${value}"`);
        }
        return parsed;
    };
}
