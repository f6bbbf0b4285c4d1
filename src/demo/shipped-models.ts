import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { RstarError } from "../errors/index.js";
import { packageRoot, parseJson } from "../util/index.js";

/** The project's own tiny models, as `rstar evolve --preset synthetic --export-models models` writes them. */
export interface ShippedModels {
    dir: string;
    /** Policy GGUF (F16). */
    policy: string;
    /** PPM directory: model.gguf, value_head.safetensors, value_head.json. */
    ppm: string;
    /** Held-out problems of the synthetic domain, never seen in training. */
    heldOut: { test: string; ood: string };
    manifest: Record<string, unknown>;
}

export function defaultModelsDir(): string {
    return join(packageRoot(), "models");
}

/** Finds the shipped models; fails with FILE_NOT_FOUND naming what is missing and how to rebuild it. */
export function locateShippedModels(dir = defaultModelsDir()): ShippedModels {
    const models: ShippedModels = {
        dir,
        policy: join(dir, "policy", "model.gguf"),
        ppm: join(dir, "ppm"),
        heldOut: { test: join(dir, "heldout", "test.jsonl"), ood: join(dir, "heldout", "ood.jsonl") },
        manifest: {},
    };
    const required = [models.policy, join(models.ppm, "model.gguf"), join(models.ppm, "value_head.json"), models.heldOut.test, models.heldOut.ood, join(dir, "manifest.json")];
    const missing = required.filter((path) => !existsSync(path));
    if (missing.length > 0) {
        throw new RstarError("FILE_NOT_FOUND", `the shipped models are incomplete: missing ${missing.join(", ")}. Rebuild them with: rstar evolve --preset synthetic --out runs/evolve-synthetic --export-models models (about 1.5 hours on 2 cores)`);
    }
    const manifest = parseJson(readFileSync(join(dir, "manifest.json"), "utf8"));
    if (manifest.ok && typeof manifest.value === "object" && manifest.value !== null) models.manifest = manifest.value as Record<string, unknown>;
    return models;
}
