import { describe, expect, it } from "vitest";
import { isRetryableStatus, parseRetryAfter, retryDelay } from "./retry-policy.js";

describe("retry policy", () => {
    it("retries 408, 409, 429 and 5xx only", () => {
        expect([408, 409, 429, 500, 502, 503, 504].every(isRetryableStatus)).toBe(true);
        expect([200, 400, 401, 403, 404, 422].some(isRetryableStatus)).toBe(false);
    });

    it("reads retry-after as seconds or an HTTP date", () => {
        const now = Date.parse("2025-01-01T00:00:00Z");
        expect(parseRetryAfter("3", now)).toBe(3000);
        expect(parseRetryAfter("0.25", now)).toBe(250);
        expect(parseRetryAfter("Wed, 01 Jan 2025 00:00:05 GMT", now)).toBe(5000);
        expect(parseRetryAfter("Tue, 31 Dec 2024 23:59:00 GMT", now)).toBe(0);
        expect(parseRetryAfter(null, now)).toBeUndefined();
        expect(parseRetryAfter("soon", now)).toBeUndefined();
    });

    it("doubles the delay with jitter in [d/2, d], capped, and prefers retry-after", () => {
        const settings = (random: number) => ({ baseDelayMs: 100, maxDelayMs: 1000, random: () => random });
        expect(retryDelay(0, settings(0))).toBe(50);
        expect(retryDelay(0, settings(0.999))).toBe(100);
        expect(retryDelay(3, settings(0))).toBe(400);
        expect(retryDelay(10, settings(0.999))).toBe(1000);
        expect(retryDelay(0, settings(0), 700)).toBe(700);
        expect(retryDelay(0, settings(0), 5000)).toBe(1000);
    });
});
