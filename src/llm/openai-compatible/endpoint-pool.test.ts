import { describe, expect, it } from "vitest";
import { ConcurrencyLimit } from "./concurrency-limit.js";
import { EndpointPool } from "./endpoint-pool.js";

describe("EndpointPool", () => {
    it("picks the least loaded endpoint, ties to the first listed", () => {
        const pool = new EndpointPool(["a", "b", "c"], 1000, () => 0);
        const [a, b] = pool.endpoints;
        expect(pool.pick().baseURL).toBe("a");
        if (a === undefined || b === undefined) throw new Error("missing");
        a.inFlight = 2;
        b.inFlight = 1;
        expect(pool.pick().baseURL).toBe("c");
    });

    it("skips a failed endpoint until its cool-down ends, and uses the soonest when all cool down", () => {
        let now = 0;
        const pool = new EndpointPool(["a", "b"], 1000, () => now);
        const [a, b] = pool.endpoints;
        if (a === undefined || b === undefined) throw new Error("missing");
        pool.markFailure(a);
        expect(pool.pick().baseURL).toBe("b");
        now = 500;
        pool.markFailure(b);
        expect(pool.pick().baseURL).toBe("a");
        now = 1001;
        expect(pool.pick().baseURL).toBe("a");
        pool.markSuccess(b);
        b.inFlight = 0;
        a.inFlight = 1;
        expect(pool.pick().baseURL).toBe("b");
    });
});

describe("ConcurrencyLimit", () => {
    it("admits at most `limit` holders, first come first served", async () => {
        const limit = new ConcurrencyLimit(2);
        const order: number[] = [];
        const releaseA = await limit.acquire();
        const releaseB = await limit.acquire();
        const third = limit.acquire().then((release) => {
            order.push(3);
            return release;
        });
        const fourth = limit.acquire().then((release) => {
            order.push(4);
            return release;
        });
        expect(limit.inFlight).toBe(2);
        releaseA();
        releaseA();
        (await third)();
        releaseB();
        (await fourth)();
        expect(order).toEqual([3, 4]);
        expect(limit.inFlight).toBe(0);
    });

    it("an aborted waiter leaves the queue with ABORTED", async () => {
        const limit = new ConcurrencyLimit(1);
        const release = await limit.acquire();
        const controller = new AbortController();
        const waiting = limit.acquire(controller.signal);
        controller.abort();
        await expect(waiting).rejects.toMatchObject({ code: "ABORTED" });
        release();
        expect(limit.inFlight).toBe(0);
    });
});
