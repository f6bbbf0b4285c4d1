import type { NamespaceSupport } from "./namespaces.js";
import type { ReadyMessage } from "./protocol.js";
import type { IsolationReport } from "./types.js";

/** Combines what the TypeScript side set up (namespaces) with what the worker reports it applied to itself. */
export function isolationReport(namespaces: NamespaceSupport, ready: ReadyMessage): IsolationReport {
    const worker = ready.isolation;
    return {
        platform: process.platform,
        namespaces: namespaces.kinds,
        namespacesUnavailable: namespaces.reason,
        uid: worker.uid,
        privilegesKept: worker.uid === 0 ? (worker.dropSkipped ?? worker.dropError ?? "dropping privileges is disabled") : null,
        landlock: {
            abi: worker.landlock.abi,
            network: worker.landlock.network ?? false,
            signals: worker.landlock.signals ?? false,
            reason: worker.landlock.abi > 0 ? null : (worker.landlock.reason ?? "unavailable"),
        },
        rlimits: worker.rlimits,
        auditHook: worker.auditHook,
        python: worker.python,
    };
}
