import { availableParallelism } from "node:os";
import { RstarError } from "../errors/index.js";
import { findPython } from "../util/index.js";
import type { SandboxOptions } from "./types.js";

export interface ResolvedOptions {
    workers: number;
    spares: number;
    timeoutMs: number;
    cpuMs: number;
    graceMs: number;
    memoryBytes: number;
    fileSizeBytes: number;
    openFiles: number;
    maxOutputChars: number;
    observationChars: number;
    evalfRounding: boolean;
    seed: number;
    python: string;
    preload: string[];
    recycleAfter: number;
    startTimeoutMs: number;
    env: Record<string, string>;
    namespaces: boolean;
    dropPrivileges: boolean;
    landlock: boolean;
    auditHook: boolean;
    pipeline: number;
    prefixReuse: boolean;
    prefixCache: number;
}

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

function positive(name: string, value: number | undefined, fallback: number, allowZero = false): number {
    if (value === undefined) return fallback;
    if (!Number.isFinite(value) || !Number.isInteger(value) || value < 0 || (!allowZero && value === 0)) {
        throw new RstarError("INVALID_ARGUMENT", `sandbox option ${name} must be a ${allowZero ? "non-negative" : "positive"} integer, got ${String(value)}`);
    }
    return value;
}

/** Applies defaults (documented on SandboxOptions) and validates every field. */
export function resolveOptions(options: SandboxOptions = {}): ResolvedOptions {
    const timeoutMs = positive("timeoutMs", options.timeoutMs, 10_000);
    const preload = options.preload ?? ["sympy", "numpy"];
    for (const name of preload) {
        if (!/^[A-Za-z_][A-Za-z0-9_.]*$/.test(name)) throw new RstarError("INVALID_ARGUMENT", `sandbox option preload: "${name}" is not a module name`);
    }
    const env = options.env ?? {};
    for (const [key, value] of Object.entries(env)) {
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key) || typeof value !== "string") {
            throw new RstarError("INVALID_ARGUMENT", `sandbox option env: "${key}" is not a valid variable name with a string value`);
        }
    }
    return {
        workers: positive("workers", options.workers, availableParallelism()),
        spares: positive("spares", options.spares, 1, true),
        timeoutMs,
        cpuMs: positive("cpuMs", options.cpuMs, timeoutMs),
        graceMs: positive("graceMs", options.graceMs, 1000, true),
        memoryBytes: positive("memoryBytes", options.memoryBytes, GiB),
        fileSizeBytes: positive("fileSizeBytes", options.fileSizeBytes, 64 * MiB),
        openFiles: positive("openFiles", options.openFiles, 256),
        maxOutputChars: positive("maxOutputChars", options.maxOutputChars, 8 * MiB),
        observationChars: positive("observationChars", options.observationChars, 1024),
        evalfRounding: options.evalfRounding ?? true,
        seed: positive("seed", options.seed, 0, true),
        python: options.python ?? findPython({ modules: ["sympy", "numpy"], purpose: "the Python sandbox" }),
        preload,
        recycleAfter: positive("recycleAfter", options.recycleAfter, 1000),
        startTimeoutMs: positive("startTimeoutMs", options.startTimeoutMs, 60_000),
        env,
        namespaces: options.isolation?.namespaces ?? true,
        dropPrivileges: options.isolation?.dropPrivileges ?? true,
        landlock: options.isolation?.landlock ?? true,
        auditHook: options.isolation?.auditHook ?? true,
        pipeline: positive("pipeline", options.pipeline, 4),
        prefixReuse: (options.prefixCache ?? 1) > 0 && (options.prefixReuse ?? true),
        prefixCache: positive("prefixCache", options.prefixCache, 32, true),
    };
}

/** Checks a per-run limit in milliseconds. */
export function runLimit(name: string, value: number | undefined, fallback: number): number {
    return positive(name, value, fallback);
}
