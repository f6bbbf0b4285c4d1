import { describe, expect, it } from "vitest";
import { LLM_HTTP_PROFILE, REWARD_HTTP_PROFILE, resolveHttpSettings } from "./http-settings.js";
import { resolveOptions } from "./options.js";

describe("resolveHttpSettings: one resolver for the policy and reward HTTP clients", () => {
    it("reads each profile's env vars, with the same rules and its own defaults", () => {
        for (const [profile, prefix, timeout, inFlight] of [
            [LLM_HTTP_PROFILE, "RSTAR_LLM", 300_000, 64],
            [REWARD_HTTP_PROFILE, "RSTAR_REWARD", 120_000, 16],
        ] as const) {
            const defaults = resolveHttpSettings({ env: { [`${prefix}_BASE_URL`]: "http://a:1/, http://b:2", [`${prefix}_MODEL`]: "m" } }, profile);
            expect(defaults).toEqual({
                baseURLs: ["http://a:1", "http://b:2"],
                model: "m",
                apiKey: undefined,
                timeoutMs: timeout,
                maxRetries: 4,
                retryBaseDelayMs: 500,
                retryMaxDelayMs: 30_000,
                maxInFlight: inFlight,
                endpointCooldownMs: 5_000,
            });
            const env = { [`${prefix}_BASE_URL`]: "http://a:1", [`${prefix}_MODEL`]: "m", [`${prefix}_API_KEY`]: "k", [`${prefix}_TIMEOUT_MS`]: "50", [`${prefix}_MAX_RETRIES`]: "0", [`${prefix}_MAX_IN_FLIGHT`]: "3" };
            expect(resolveHttpSettings({ env }, profile)).toMatchObject({ apiKey: "k", timeoutMs: 50, maxRetries: 0, maxInFlight: 3 });
            // an explicit option wins over the env var
            expect(resolveHttpSettings({ env, timeoutMs: 7, model: "x" }, profile)).toMatchObject({ timeoutMs: 7, model: "x" });
            expect(() => resolveHttpSettings({ env: { ...env, [`${prefix}_TIMEOUT_MS`]: "soon" } }, profile)).toThrow(new RegExp(`${prefix}_TIMEOUT_MS`));
            expect(() => resolveHttpSettings({ env: {}, model: "m" }, profile)).toThrow(new RegExp(`${prefix}_BASE_URL`));
            expect(() => resolveHttpSettings({ env: {}, baseURL: "ftp://a", model: "m" }, profile)).toThrow(/must use http or https/);
            expect(() => resolveHttpSettings({ env: {}, baseURL: "http://a" }, profile)).toThrow(new RegExp(`${prefix}_MODEL`));
            expect(() => resolveHttpSettings({ env: {}, baseURL: "http://a", model: "m", maxInFlight: 0 }, profile)).toThrow(/option maxInFlight must be an integer >= 1/);
        }
    });

    it("keeps each client's URL convention: the policy keeps /v1, the reward server root drops it", () => {
        expect(resolveHttpSettings({ env: {}, baseURL: "http://a:1/v1/", model: "m" }, LLM_HTTP_PROFILE).baseURLs).toEqual(["http://a:1/v1"]);
        expect(resolveHttpSettings({ env: {}, baseURL: "http://a:1/v1/", model: "m" }, REWARD_HTTP_PROFILE).baseURLs).toEqual(["http://a:1"]);
        expect(resolveOptions({ env: {}, baseURL: "http://a:1/v1", model: "m" })).toMatchObject({ nStrategy: "auto", extraBody: { skip_special_tokens: false }, timeoutMs: 300_000 });
    });
});
