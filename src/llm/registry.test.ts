import { describe, expect, it } from "vitest";
import { RstarError } from "../errors/index.js";
import { MockLlmBackend } from "./mock/index.js";
import { OpenAiCompatibleBackend } from "./openai-compatible/index.js";
import { LlmBackendRegistry, NoSuchBackendError, resolveLlmBackend } from "./registry.js";

describe("LLM backend registry", () => {
    it("resolves openai: ids and the server aliases, one or several URLs", () => {
        const backend = resolveLlmBackend("openai:http://127.0.0.1:8000/v1", { model: "m", env: {} });
        expect(backend).toBeInstanceOf(OpenAiCompatibleBackend);
        expect(backend.id).toBe("openai:http://127.0.0.1:8000/v1");
        expect(backend.model).toBe("m");
        const balanced = resolveLlmBackend("vllm:http://a:8000/v1, http://b:8000/v1/", { model: "m", env: {} });
        expect(balanced.id).toBe("openai:http://a:8000/v1,http://b:8000/v1");
    });

    it("throws NO_SUCH_BACKEND for unknown kinds, naming the known ones", () => {
        for (const id of ["tgi:http://x", "no-colon"]) {
            const error = (() => {
                try {
                    resolveLlmBackend(id, { model: "m" });
                } catch (caught) {
                    return caught;
                }
                return undefined;
            })();
            expect(error).toBeInstanceOf(NoSuchBackendError);
            expect(RstarError.isInstance(error) && error.code).toBe("NO_SUCH_BACKEND");
            expect(String((error as Error).message)).toContain("openai");
        }
    });

    it("reports a missing model or bad URL as CONFIG_INVALID, naming the env var", () => {
        expect(() => resolveLlmBackend("openai:http://127.0.0.1:8000/v1", { env: {} })).toThrow(/RSTAR_LLM_MODEL/);
        expect(() => resolveLlmBackend("openai:not a url", { model: "m", env: {} })).toThrow(/not a valid URL/);
        expect(() => new OpenAiCompatibleBackend({ env: {} })).toThrow(/RSTAR_LLM_BASE_URL/);
        const fromEnv = new OpenAiCompatibleBackend({ env: { RSTAR_LLM_BASE_URL: "http://h:1/v1", RSTAR_LLM_MODEL: "env-model", RSTAR_LLM_MAX_IN_FLIGHT: "8" } });
        expect(fromEnv.model).toBe("env-model");
        expect(() => new OpenAiCompatibleBackend({ env: { RSTAR_LLM_BASE_URL: "http://h:1/v1", RSTAR_LLM_MODEL: "m", RSTAR_LLM_TIMEOUT_MS: "soon" } })).toThrow(/RSTAR_LLM_TIMEOUT_MS/);
    });

    it("accepts new kinds, e.g. for later backends", () => {
        const registry = new LlmBackendRegistry().register("mock", () => new MockLlmBackend({ script: [] }));
        expect(registry.resolve("mock:anything")).toBeInstanceOf(MockLlmBackend);
        expect(registry.kinds).toEqual(["mock"]);
    });
});
