import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * The tiny test model from `train/make_test_model.py` (layout in train/README.md), built once per version of train/
 * into the temp folder and shared by test files. `null` when no Python with torch is available (tests then skip).
 */
export interface TestModel {
    dir: string;
    gguf: string;
    golden: {
        bos_id: number;
        eos_id: number;
        greedy: { prompt: string; prompt_ids: number[]; ids: number[]; text: string }[];
        hidden: { text: string; ids: number[]; last_hidden: number[]; value_raw: number; score: number }[];
    };
}

function python(): string | null {
    for (const candidate of [process.env["RSTAR_PYTHON"], "/usr/bin/python3"]) {
        if (candidate === undefined || !existsSync(candidate)) continue;
        const probe = spawnSync(candidate, ["-c", "import torch"], { stdio: "ignore" });
        if (probe.status === 0) return candidate;
    }
    return null;
}

let cached: TestModel | null | undefined;

export function testModel(): TestModel | null {
    if (cached !== undefined) return cached;
    const trainDir = join(process.cwd(), "train");
    const script = join(trainDir, "make_test_model.py");
    const interpreter = existsSync(script) ? python() : null;
    if (interpreter === null) return (cached = null);
    const hash = createHash("sha256");
    for (const file of readdirSync(trainDir).filter((name) => name.endsWith(".py")).sort()) hash.update(file).update(readFileSync(join(trainDir, file)));
    const dir = join(tmpdir(), `rstar-test-model-${hash.digest("hex").slice(0, 16)}`);
    if (!existsSync(join(dir, "golden.json"))) {
        const scratch = mkdtempSync(`${dir}-building-`);
        try {
            execFileSync(interpreter, [script, "--out", scratch], { stdio: ["ignore", "ignore", "inherit"], timeout: 180_000 });
            try {
                renameSync(scratch, dir);
            } catch {
                // another test file finished first; use its copy
            }
        } finally {
            rmSync(scratch, { recursive: true, force: true });
        }
    }
    const golden = JSON.parse(readFileSync(join(dir, "golden.json"), "utf8")) as TestModel["golden"];
    return (cached = { dir, gguf: join(dir, "model.gguf"), golden });
}
