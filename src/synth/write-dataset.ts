import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { SPLITS, type DatasetOptions, type SynthDataset, type SynthProblem } from "./dataset.js";

export type DatasetFormat = "json" | "jsonl";

export interface WrittenDataset {
    /** Paths written, by role. */
    files: { train: string; test: string; ood: string; sft: string; manifest: string };
    counts: { train: number; test: number; ood: number };
}

/**
 * Writes `train`, `test` and `ood` in the benchmark format (a JSON array with one record per line, or JSONL), the
 * SFT file `sft-train.jsonl` (`{"query", "response"}` as the official trainer reads it: the prompt is
 * `sftPrompt(query)` and the response is appended), and `manifest.json` with the options that reproduce it all.
 */
export async function writeDataset(dir: string, dataset: SynthDataset, options: DatasetOptions, format: DatasetFormat = "jsonl"): Promise<WrittenDataset> {
    await mkdir(dir, { recursive: true });
    const path = (name: string) => join(dir, name);
    const files = {
        train: path(`train.${format}`),
        test: path(`test.${format}`),
        ood: path(`ood.${format}`),
        sft: path("sft-train.jsonl"),
        manifest: path("manifest.json"),
    };
    for (const split of SPLITS) await writeFile(files[split], serialize(dataset[split], format), "utf8");
    await writeFile(files.sft, dataset.train.map((problem) => JSON.stringify({ query: problem.question, response: problem.solution }) + "\n").join(""), "utf8");
    const counts = { train: dataset.train.length, test: dataset.test.length, ood: dataset.ood.length };
    const manifest = { generator: "rstar synth generate", options, format, counts, steps: Object.fromEntries(SPLITS.map((split) => [split, stepRange(dataset[split])])) };
    await writeFile(files.manifest, JSON.stringify(manifest, null, 2) + "\n", "utf8");
    return { files, counts };
}

function serialize(problems: readonly SynthProblem[], format: DatasetFormat): string {
    const lines = problems.map((problem) => JSON.stringify(problem));
    if (format === "jsonl") return lines.map((line) => line + "\n").join("");
    return lines.length === 0 ? "[]\n" : `[\n${lines.join(",\n")}\n]\n`;
}

function stepRange(problems: readonly SynthProblem[]): [number, number] | null {
    if (problems.length === 0) return null;
    const steps = problems.map((problem) => problem.steps);
    return [Math.min(...steps), Math.max(...steps)];
}
