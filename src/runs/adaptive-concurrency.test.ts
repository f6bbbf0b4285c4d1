import { describe, expect, it } from "vitest";
import { AdaptiveConcurrency } from "./adaptive-concurrency.js";

/**
 * A simulated server with `capacity` slots, each request taking `serviceMs`: with k requests in flight a request takes
 * serviceMs × max(1, k / capacity) (it queues beyond capacity) and throughput is k / latency. Runs the controller
 * for a number of windows with the limit as the requests in flight, on a virtual clock.
 */
function drive(controller: AdaptiveConcurrency, capacity: number, serviceMs: number, windows: number, clock: { t: number }, overloadAbove = Number.POSITIVE_INFINITY) {
    for (let window = 0; window < windows; window += 1) {
        const inFlight = controller.limit;
        const latency = serviceMs * Math.max(1, inFlight / capacity);
        // One window: `inFlight` requests answered in one latency period.
        for (let request = 0; request < inFlight; request += 1) {
            if (inFlight > overloadAbove && request === 0) controller.overloaded();
            clock.t += latency / inFlight;
            controller.requestDone(latency);
        }
    }
}

describe("AdaptiveConcurrency (AIMD on problems in flight)", () => {
    it("grows from the initial limit to the server's capacity and holds near it, never above max", () => {
        const clock = { t: 0 };
        const controller = new AdaptiveConcurrency({ initial: 8, max: 512, now: () => clock.t });
        drive(controller, 64, 100, 60, clock);
        expect(controller.decisions[0]?.reason).toBe("slow-start");
        expect(controller.limit).toBeGreaterThanOrEqual(48);
        expect(controller.limit).toBeLessThanOrEqual(100);
    });

    it("stops at --max-in-flight when the server has more room", () => {
        const clock = { t: 0 };
        const controller = new AdaptiveConcurrency({ initial: 8, max: 40, now: () => clock.t });
        drive(controller, 256, 50, 30, clock);
        expect(controller.limit).toBe(40);
    });

    it("halves on 429/503 answers and backs off while latency climbs without throughput", () => {
        const clock = { t: 0 };
        const controller = new AdaptiveConcurrency({ initial: 32, max: 256, now: () => clock.t });
        drive(controller, 1000, 50, 2, clock, 16);
        expect(controller.decisions.map((decision) => decision.reason)).toContain("overload");
        expect(controller.limit).toBeLessThan(32);

        const queued = new AdaptiveConcurrency({ initial: 64, max: 256, now: () => clock.t });
        drive(queued, 8, 50, 1, clock); // first window: baseline at 8x queueing...
        // ...then the server slows down (another client arrived): latency climbs with no throughput gain.
        drive(queued, 2, 50, 4, clock);
        expect(queued.decisions.some((decision) => decision.reason === "latency")).toBe(true);
        expect(queued.limit).toBeLessThan(64);
    });

    it("stays within [min, max] and rejects a bad range", () => {
        const clock = { t: 0 };
        const controller = new AdaptiveConcurrency({ initial: 4, min: 2, max: 6, now: () => clock.t });
        for (let index = 0; index < 10; index += 1) {
            controller.overloaded();
            for (let request = 0; request < controller.limit; request += 1) controller.requestDone(10);
        }
        expect(controller.limit).toBe(2);
        expect(() => new AdaptiveConcurrency({ min: 5, max: 4 })).toThrow(RangeError);
    });
});
