import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { RstarError } from "../errors/index.js";
import { isPlainObject, parseJson } from "../util/index.js";
import { readJson } from "./report.js";
import { readState } from "./state.js";

/**
 * Ships a finished `rstar evolve` round as a models directory (what `rstar demo` and the tests load): the round's
 * policy and PPM, the held-out test and ood splits, and a manifest with the run's config and its table across rounds.
 */

export const MODELS_FORMAT = "rstar-models/2";

const POLICY_FILES = ["model.gguf", "tokenizer.json", "config.json", "metrics.json"];
const PPM_FILES = ["model.gguf", "value_head.safetensors", "value_head.json", "config.json", "metrics.json"];
/** Files a models directory cannot do without (the rest are copied when the trainer wrote them). */
const REQUIRED = new Set(["policy/model.gguf", "ppm/model.gguf", "ppm/value_head.safetensors", "ppm/value_head.json"]);

export interface ExportModelsOptions {
    /** The evolve run directory. */
    run: string;
    /** Where the models go; an existing directory is replaced once the new one is complete. */
    out: string;
    /** The round to ship (default: the last round with a report). */
    round?: number;
    /** The command that built the run, recorded in the manifest. */
    builtBy: string;
}

export interface ExportedModels {
    out: string;
    round: number;
    files: string[];
}

export function exportModels(options: ExportModelsOptions): ExportedModels {
    const { run, out } = options;
    const config = readJsonFile(join(run, "config.json"));
    const report = readJsonFile(join(run, "report.json"));
    const rounds = Array.isArray(report["rounds"]) ? (report["rounds"] as unknown[]).filter(isPlainObject) : [];
    const round = options.round ?? Math.max(0, ...rounds.map((r) => (typeof r["round"] === "number" ? r["round"] : 0)));
    if (!rounds.some((r) => r["round"] === round)) throw new RstarError("INVALID_ARGUMENT", `${join(run, "report.json")}: round ${round} has not finished (no report); finish it with rstar evolve --resume`);
    const state = readState(join(run, `round-${round}`, "state.json"));
    const policy = state?.artifacts.policy ?? null;
    const ppm = state?.artifacts.ppm ?? null;
    if (policy === null || ppm === null) throw new RstarError("INVALID_ARGUMENT", `${join(run, `round-${round}`, "state.json")}: round ${round} has ${policy === null ? "no policy" : "no PPM"} to ship`);
    const data = isPlainObject(config["data"]) && "synth" in config["data"] ? { test: join(run, "data", "test.jsonl"), ood: join(run, "data", "ood.jsonl") } : null;
    if (data === null) throw new RstarError("INVALID_ARGUMENT", `${join(run, "config.json")}: field "data": shipping models needs the run's synthetic test and ood splits`);

    const copies: [string, string][] = [
        ...POLICY_FILES.map((file): [string, string] => [join(run, policy, file), join("policy", file)]),
        ...PPM_FILES.map((file): [string, string] => [join(run, ppm, file), join("ppm", file)]),
        [data.test, join("heldout", "test.jsonl")],
        [data.ood, join("heldout", "ood.jsonl")],
    ];
    const missing = copies.filter(([from, to]) => !existsSync(from) && (REQUIRED.has(to) || to.startsWith("heldout"))).map(([from]) => from);
    if (missing.length > 0) throw new RstarError("FILE_NOT_FOUND", `cannot ship round ${round}: missing ${missing.join(", ")}`);

    // Written beside the target, then swapped in: the old models stay until the new ones are complete.
    const staging = `${out}.tmp-${process.pid}`;
    rmSync(staging, { recursive: true, force: true });
    const files: string[] = [];
    for (const [from, to] of copies) {
        if (!existsSync(from)) continue;
        mkdirSync(dirname(join(staging, to)), { recursive: true });
        copyFileSync(from, join(staging, to));
        files.push(to);
    }
    const manifest = {
        format: MODELS_FORMAT,
        builtBy: options.builtBy,
        seed: config["seed"],
        round,
        rounds: rounds.length,
        policy: { from: policy, metrics: readJson(join(run, policy, "metrics.json")) },
        ppm: { from: ppm, metrics: readJson(join(run, ppm, "metrics.json")) },
        table: Array.isArray(report["table"]) ? report["table"] : [],
        secondsTotal: rounds.reduce((sum, r) => sum + (typeof r["secondsTotal"] === "number" ? r["secondsTotal"] : 0), 0),
        config,
    };
    const manifestText = JSON.stringify(manifest, null, 2) + "\n";
    // A plain write: the whole directory is swapped in below.
    mkdirSync(staging, { recursive: true });
    writeFileSync(join(staging, "manifest.json"), manifestText);
    files.push("manifest.json");
    const old = `${out}.old-${process.pid}`;
    if (existsSync(out)) renameSync(out, old);
    renameSync(staging, out);
    rmSync(old, { recursive: true, force: true });
    return { out, round, files };
}

function readJsonFile(path: string): Record<string, unknown> {
    if (!existsSync(path)) throw new RstarError("FILE_NOT_FOUND", `${path} does not exist: not a finished rstar evolve run`);
    const parsed = parseJson(readFileSync(path, "utf8"));
    if (!parsed.ok || !isPlainObject(parsed.value)) throw new RstarError("INVALID_INPUT", `${path}: not a JSON object`);
    return parsed.value;
}
