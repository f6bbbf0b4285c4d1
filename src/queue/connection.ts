import type { ConnectionOptions } from "bullmq";
import { RstarError } from "../errors/index.js";

/** Where a distributed run's queue lives: BullMQ connection options, and the URL as it may be shown (no password). */
export interface QueueConnection {
    options: ConnectionOptions;
    /** `redis://host:port/db` with any password replaced by `***`: safe for logs and config.json. */
    display: string;
}

/**
 * Parses `redis://[user[:password]@]host[:port][/db]` or `rediss://…` (TLS, certificates checked against the system's
 * CAs and NODE_EXTRA_CA_CERTS). The password may instead come from the environment variable RSTAR_REDIS_PASSWORD, so
 * that it appears neither in `ps` nor in shell history; the URL's password wins when both are given.
 * Commands wait through a Redis restart (`maxRetriesPerRequest: null`) instead of failing after a few retries.
 */
export function parseQueueUrl(text: string, env: NodeJS.ProcessEnv = process.env): QueueConnection {
    let url: URL;
    try {
        url = new URL(text);
    } catch {
        throw new RstarError("INVALID_ARGUMENT", `--queue ${JSON.stringify(text)} is not a URL; expected redis://HOST:PORT[/DB] or rediss://… (TLS)`);
    }
    if (url.protocol !== "redis:" && url.protocol !== "rediss:") {
        throw new RstarError("INVALID_ARGUMENT", `--queue ${url.protocol}// is not supported; expected redis://HOST:PORT[/DB] or rediss://… (TLS)`);
    }
    const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
    if (host === "") throw new RstarError("INVALID_ARGUMENT", `--queue ${text} names no host`);
    const port = url.port === "" ? 6379 : Number(url.port);
    const dbText = url.pathname.replace(/^\//, "");
    const db = dbText === "" ? 0 : Number(dbText);
    if (!Number.isInteger(db) || db < 0) throw new RstarError("INVALID_ARGUMENT", `--queue ${redact(url)}: the database "${dbText}" is not a number (redis://HOST:PORT/DB)`);
    const username = decodeURIComponent(url.username);
    const password = url.password !== "" ? decodeURIComponent(url.password) : env["RSTAR_REDIS_PASSWORD"];
    const tls = url.protocol === "rediss:";
    return {
        options: {
            host,
            port,
            db,
            ...(username !== "" ? { username } : {}),
            ...(password !== undefined && password !== "" ? { password } : {}),
            ...(tls ? { tls: { servername: host } } : {}),
            maxRetriesPerRequest: null,
            connectTimeout: 10_000,
        },
        display: redact(url),
    };
}

function redact(url: URL): string {
    const copy = new URL(url.href);
    if (copy.password !== "") copy.password = "***";
    return copy.href.replace(/\/$/, "");
}
