import { spawnSync } from "node:child_process";

export interface NamespaceSupport {
    /** Command prefix that starts a program in fresh namespaces, e.g. ["unshare", "--net", ...]; empty when unavailable. */
    prefix: string[];
    /** Namespaces the prefix creates. */
    kinds: string[];
    /** Why namespaces are unavailable (null when available). */
    reason: string | null;
}

let cached: NamespaceSupport | undefined;

/**
 * Probes once per process whether `unshare` can put a worker into new network, PID and mount namespaces
 * (with --kill-child, so the worker dies with its unshare parent). As root no user namespace is needed;
 * otherwise one is created with the caller mapped to root inside it.
 */
export function namespaceSupport(): NamespaceSupport {
    if (cached !== undefined) return cached;
    cached = probe();
    return cached;
}

function probe(): NamespaceSupport {
    if (process.platform !== "linux") return { prefix: [], kinds: [], reason: `not Linux (${process.platform})` };
    const base = ["--net", "--pid", "--fork", "--mount-proc", "--kill-child"];
    const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
    const attempts: { flags: string[]; kinds: string[] }[] = [];
    if (isRoot) attempts.push({ flags: base, kinds: ["net", "pid", "mount"] });
    attempts.push({ flags: ["--user", "--map-root-user", ...base], kinds: ["user", "net", "pid", "mount"] });
    const failures: string[] = [];
    for (const attempt of attempts) {
        for (const binary of ["unshare", "/usr/bin/unshare"]) {
            const result = spawnSync(binary, [...attempt.flags, "--", "true"], { encoding: "utf8", timeout: 10_000, env: { PATH: "/usr/bin:/bin" } });
            if (result.status === 0) return { prefix: [binary, ...attempt.flags, "--"], kinds: attempt.kinds, reason: null };
            failures.push(`${binary} ${attempt.flags.join(" ")}: ${result.error ? result.error.message : (result.stderr.trim() || `exit ${String(result.status)}`)}`);
            if (result.error === undefined) break;
        }
    }
    return { prefix: [], kinds: [], reason: failures.join("; ") };
}
