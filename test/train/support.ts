import { readFileSync } from "node:fs";
import { findTrainingPython } from "../../src/train/index.js";

/** A Python with torch, or null (tests then skip with a message saying so). */
export function trainingPython(): string | null {
    try {
        return findTrainingPython();
    } catch (error) {
        process.stderr.write(`SKIPPING training tests: ${(error as Error).message}\n`);
        return null;
    }
}

/** Minimal safetensors reader (F32 only), independent of the Python writer. */
export function readSafetensors(path: string): Record<string, { shape: number[]; data: Float32Array }> {
    const blob = readFileSync(path);
    const headerLength = Number(blob.readBigUInt64LE(0));
    const header = JSON.parse(blob.subarray(8, 8 + headerLength).toString("utf8")) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
    const out: Record<string, { shape: number[]; data: Float32Array }> = {};
    for (const [name, info] of Object.entries(header)) {
        if (name === "__metadata__") continue;
        if (info.dtype !== "F32") throw new Error(`${name}: dtype ${info.dtype}`);
        const [begin, end] = info.data_offsets;
        const bytes = blob.subarray(8 + headerLength + begin, 8 + headerLength + end);
        out[name] = { shape: info.shape, data: new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)) };
    }
    return out;
}

export interface Golden {
    vocab_size: number;
    tokenize: { text: string; ids: number[]; ids_no_special: number[] }[];
    greedy: { prompt: string; prompt_ids: number[]; ids: number[]; text: string }[];
    hidden: { text: string; ids: number[]; last_hidden: number[]; value_raw: number; score: number }[];
}
