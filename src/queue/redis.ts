import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { RstarError, describeError } from "../errors/index.js";
import type { QueueConnection } from "./connection.js";

/**
 * Opens a BullMQ queue and waits until Redis answers: QUEUE_UNAVAILABLE (exit 3) when it does not within
 * `timeoutMs`. Later connection errors (a Redis restart) are logged once each; commands wait for the reconnection.
 */
export async function connectQueue(connection: QueueConnection, name: string, log: (line: string) => void, timeoutMs = 15_000): Promise<Queue> {
    await probeRedis(connection, timeoutMs);
    const queue = new Queue(name, { connection: connection.options });
    let lastError = null as Error | null;
    queue.on("error", (error: Error) => {
        if (lastError?.message !== error.message) log(`Redis at ${connection.display}: ${error.message}`);
        lastError = error;
    });
    let timer: NodeJS.Timeout | undefined;
    try {
        await Promise.race([
            queue.waitUntilReady(),
            new Promise((_, reject) => {
                timer = setTimeout(() => reject(new Error("timed out")), timeoutMs);
            }),
        ]);
    } catch (error) {
        await queue.disconnect().catch(() => undefined);
        throw new RstarError("QUEUE_UNAVAILABLE", `cannot reach Redis at ${connection.display}: ${lastError?.message ?? describeError(error)} (is redis-server running there, and are the password / TLS options right?)`, {
            cause: error,
        });
    } finally {
        clearTimeout(timer);
    }
    return queue;
}

/**
 * One connection attempt and a PING, without retries: a wrong host, port, password or TLS setting fails here at once
 * (BullMQ's own clients retry forever, and cannot be closed before they connected once).
 */
export async function probeRedis(connection: QueueConnection, timeoutMs: number): Promise<void> {
    const options = { ...(connection.options as Record<string, unknown>), lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: timeoutMs };
    const client = new Redis(options as never); // ioredis's option types do not allow exactOptionalPropertyTypes
    let lastError = null as Error | null;
    client.on("error", (error: Error) => (lastError = error));
    try {
        await client.connect();
        await client.ping();
    } catch (error) {
        throw new RstarError("QUEUE_UNAVAILABLE", `cannot reach Redis at ${connection.display}: ${lastError?.message ?? describeError(error)} (is redis-server running there, and are the password / TLS options right?)`, { cause: error });
    } finally {
        client.disconnect();
    }
}

/** How a worker words a failed attempt, so the coordinator can tell the error's code: `CODE: message (worker host:pid)`. */
export function failureMessage(code: string, message: string, worker: string): string {
    return `${code}: ${message} (worker ${worker})`;
}

/** The code and message of a failed job's reason (as `failureMessage` wrote it; BullMQ's own reasons have no code). */
export function parseFailure(reason: string): { code: string | null; message: string } {
    const match = /^([A-Z][A-Z_]+): ([\s\S]*)$/.exec(reason);
    return match ? { code: match[1] as string, message: match[2] as string } : { code: null, message: reason };
}

/**
 * Removes a finished run's queue. The coordinator does it when the run completes, and a worker retiring from the run
 * does it too (to remove the keys its BullMQ worker wrote back). BullMQ's obliterate pauses the queue, then refuses
 * to go on if the queue is no longer paused, which is what the other side's obliterate leaves behind (it deletes the
 * pause flag with everything else). So on that refusal it tries again: the next pass finds little or nothing left.
 */
export async function obliterateQueue(queue: Pick<Queue, "obliterate">, attempts = 5): Promise<void> {
    for (let attempt = 1; ; attempt += 1) {
        try {
            await queue.obliterate({ force: true });
            return;
        } catch (error) {
            if (attempt >= attempts || !/non-paused/.test(describeError(error))) throw error;
            await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
        }
    }
}
