import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { trainerScript } from "../../src/train/index.js";
import { trainingPython } from "./support.js";

const python = trainingPython();

describe.skipIf(python === null)("train/ Python internals (train/selftest.py)", () => {
    it("tokenizer round trips and determinism, RoPE, safetensors and GGUF headers, pair weights", () => {
        const run = spawnSync(python!, [trainerScript("selftest.py")], { encoding: "utf8", timeout: 120_000 });
        const last = run.stdout.trim().split("\n").pop() ?? "{}";
        const result = JSON.parse(last) as { ok: boolean; failures: string[] };
        expect(result.failures).toEqual([]);
        expect(run.status).toBe(0);
    });
});
