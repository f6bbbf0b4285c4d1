import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { obliterateQueue } from "../../src/queue/redis.js";
import { startRedisServer, type RedisServer } from "../support/redis-server.js";

let redis: RedisServer;
beforeAll(async () => {
    redis = await startRedisServer();
});
afterAll(async () => {
    await redis?.close();
});

/**
 * A queue whose obliterate is overtaken by another client's: right after it pauses the queue, the other client
 * obliterates it, as a worker retiring from a finished run can while the coordinator removes the same queue.
 */
async function overtakenQueue(name: string) {
    const connection = { host: "127.0.0.1", port: redis.port };
    const queue = new Queue(name, { connection });
    const other = new Queue(name, { connection });
    await queue.add("problem", { n: 1 });
    await queue.add("problem", { n: 2 });
    const pause = queue.pause.bind(queue);
    let overtaken = false;
    queue.pause = async () => {
        await pause();
        if (!overtaken) {
            overtaken = true;
            await other.obliterate({ force: true });
        }
    };
    return { queue, close: async () => { await queue.close(); await other.close(); } };
}

describe("removing a finished run's queue", () => {
    it("BullMQ alone refuses when another client's obliterate overtakes it; obliterateQueue goes on and leaves nothing", async () => {
        const plain = await overtakenQueue("rstar-plain");
        await expect(plain.queue.obliterate({ force: true })).rejects.toThrow(/non-paused/);
        await plain.close();

        const ours = await overtakenQueue("rstar-ours");
        await obliterateQueue(ours.queue);
        await ours.close();
        const client = new Redis({ host: "127.0.0.1", port: redis.port });
        expect(await client.keys("bull:rstar-ours:*")).toEqual([]);
        client.disconnect();
    });
});
