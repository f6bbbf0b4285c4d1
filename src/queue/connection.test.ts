import { describe, expect, it } from "vitest";
import { parseQueueUrl } from "./connection.js";

describe("parseQueueUrl", () => {
    it("reads host, port and database, defaulting to 6379 and 0", () => {
        expect(parseQueueUrl("redis://10.0.0.5:6380/2", {}).options).toMatchObject({ host: "10.0.0.5", port: 6380, db: 2, maxRetriesPerRequest: null });
        const plain = parseQueueUrl("redis://redis.internal", {});
        expect(plain.options).toMatchObject({ host: "redis.internal", port: 6379, db: 0 });
        expect(plain.options).not.toHaveProperty("password");
        expect(plain.options).not.toHaveProperty("tls");
    });

    it("passes user, password and TLS through, and never shows the password", () => {
        const parsed = parseQueueUrl("rediss://worker:s%40cret@redis.internal:6380/1", {});
        expect(parsed.options).toMatchObject({ username: "worker", password: "s@cret", tls: { servername: "redis.internal" } });
        expect(parsed.display).toBe("rediss://worker:***@redis.internal:6380/1");
        expect(parsed.display).not.toContain("cret");
    });

    it("takes the password from RSTAR_REDIS_PASSWORD when the URL has none; the URL's wins", () => {
        expect(parseQueueUrl("redis://127.0.0.1:6379", { RSTAR_REDIS_PASSWORD: "from-env" }).options).toMatchObject({ password: "from-env" });
        expect(parseQueueUrl("redis://:in-url@127.0.0.1:6379", { RSTAR_REDIS_PASSWORD: "from-env" }).options).toMatchObject({ password: "in-url" });
    });

    it("refuses what is not a Redis URL, naming the flag", () => {
        expect(() => parseQueueUrl("localhost:6379", {})).toThrow(/--queue .*redis:\/\//);
        expect(() => parseQueueUrl("http://127.0.0.1:6379", {})).toThrow(/not supported/);
        expect(() => parseQueueUrl("redis://127.0.0.1:6379/x", {})).toThrow(/database "x"/);
    });
});
