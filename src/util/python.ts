import { spawnSync } from "node:child_process";
import { RstarError } from "../errors/index.js";

export interface PythonRequirement {
    /** Modules the interpreter must import, e.g. ["sympy", "numpy"]. */
    modules: readonly string[];
    /** Why they are needed, for the error message. */
    purpose: string;
}

const cache = new Map<string, string>();

/**
 * Finds a Python 3 interpreter that imports the required modules.
 * Order: $RSTAR_PYTHON, then `python3` on PATH, then /usr/bin/python3.
 * Throws PYTHON_UNAVAILABLE naming every candidate tried and what failed.
 */
export function findPython(requirement: PythonRequirement, env: NodeJS.ProcessEnv = process.env): string {
    const override = env["RSTAR_PYTHON"];
    const candidates = override ? [override] : ["python3", "/usr/bin/python3"];
    const key = candidates.join("|") + "::" + requirement.modules.join(",");
    const hit = cache.get(key);
    if (hit !== undefined) return hit;
    const failures: string[] = [];
    for (const candidate of candidates) {
        const probe = spawnSync(candidate, ["-c", `import ${requirement.modules.join(", ") || "sys"}; import sys; print(sys.executable)`], {
            encoding: "utf8",
            timeout: 60_000,
        });
        if (probe.status === 0) {
            const executable = probe.stdout.trim() || candidate;
            cache.set(key, executable);
            return executable;
        }
        const reason = probe.error ? probe.error.message : (probe.stderr.trim().split("\n").pop() ?? `exit ${probe.status}`);
        failures.push(`${candidate}: ${reason}`);
    }
    throw new RstarError(
        "PYTHON_UNAVAILABLE",
        `No Python 3 interpreter with ${requirement.modules.join(", ")} (needed for ${requirement.purpose}). ` +
            `Tried ${failures.join("; ")}. Set RSTAR_PYTHON to an interpreter that has them.`,
    );
}
