import { readFile } from "node:fs/promises";
import { InputError, RstarError } from "../errors/index.js";
import { parseJson, isPlainObject } from "../util/index.js";

/** Element types this reader decodes (to float32). Others are listed in the header but rejected when read. */
export type SafetensorsDtype = "F32" | "F16" | "BF16" | "F64";

const BYTES_PER_ELEMENT: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

/** One tensor as read from a safetensors file, decoded to float32. Row-major, like the file. */
export interface Tensor {
    name: string;
    /** The dtype stored in the file. */
    dtype: SafetensorsDtype;
    shape: number[];
    data: Float32Array;
}

export interface SafetensorsFile {
    /** Where it came from, for messages ("value_head.safetensors" or "(buffer)"). */
    source: string;
    /** The `__metadata__` string map, or {} when absent. */
    metadata: Record<string, string>;
    /** Every tensor's name, in header order. */
    names: string[];
    /** Decodes one tensor; throws INVALID_INPUT naming the file and tensor when it is missing or not a float type. */
    tensor(name: string): Tensor;
}

interface HeaderEntry {
    dtype: string;
    shape: number[];
    begin: number;
    end: number;
}

/** Largest JSON header accepted (the format's reference implementation uses 100 MB). */
const MAX_HEADER_BYTES = 100_000_000;

/** Reads a `.safetensors` file. Errors are INVALID_INPUT naming the file (FILE_NOT_FOUND when it is absent). */
export async function readSafetensorsFile(path: string): Promise<SafetensorsFile> {
    let bytes: Buffer;
    try {
        bytes = await readFile(path);
    } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === "ENOENT") throw new RstarError("FILE_NOT_FOUND", `${path}: no such file (expected a .safetensors file)`, { cause: error, details: { file: path } });
        throw new InputError(`cannot read: ${(error as Error).message}`, { file: path }, { cause: error });
    }
    return parseSafetensors(bytes, path);
}

/**
 * Parses the safetensors format: an 8-byte little-endian header length N, N bytes of JSON
 * (`{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {…}}`, offsets relative to the end of the
 * header), then the raw little-endian data. Validates every entry's size against its shape and the buffer bounds.
 */
export function parseSafetensors(bytes: Uint8Array, source = "(buffer)"): SafetensorsFile {
    const fail = (problem: string, field?: string): never => {
        throw new InputError(problem, field === undefined ? { file: source } : { file: source, field });
    };
    if (bytes.byteLength < 8) fail(`not a safetensors file: ${bytes.byteLength} bytes, shorter than the 8-byte header length`);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const headerLength = view.getBigUint64(0, true);
    if (headerLength > BigInt(Math.min(MAX_HEADER_BYTES, bytes.byteLength - 8))) {
        fail(`not a safetensors file: header length ${headerLength} exceeds the file size ${bytes.byteLength} (or ${MAX_HEADER_BYTES})`);
    }
    const dataStart = 8 + Number(headerLength);
    const headerText = new TextDecoder("utf-8", { fatal: false }).decode(bytes.subarray(8, dataStart));
    const parsed = parseJson(headerText);
    if (!parsed.ok) return fail(`not a safetensors file: the header is ${parsed.error}`);
    if (!isPlainObject(parsed.value)) return fail("not a safetensors file: the header is not a JSON object");
    const dataLength = bytes.byteLength - dataStart;

    const metadata: Record<string, string> = {};
    const entries = new Map<string, HeaderEntry>();
    for (const [name, raw] of Object.entries(parsed.value)) {
        if (name === "__metadata__") {
            if (!isPlainObject(raw)) fail("__metadata__ must be an object of strings", "__metadata__");
            for (const [key, value] of Object.entries(raw as Record<string, unknown>)) if (typeof value === "string") metadata[key] = value;
            continue;
        }
        if (!isPlainObject(raw)) return fail(`tensor "${name}": header entry is not an object`, name);
        const { dtype, shape, data_offsets: offsets } = raw;
        if (typeof dtype !== "string" || BYTES_PER_ELEMENT[dtype] === undefined) fail(`tensor "${name}": unknown dtype ${JSON.stringify(dtype)}`, name);
        if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) fail(`tensor "${name}": shape must be a list of non-negative integers`, name);
        if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && (o as number) >= 0)) {
            fail(`tensor "${name}": data_offsets must be [begin, end]`, name);
        }
        const [begin, end] = offsets as [number, number];
        const elements = (shape as number[]).reduce((product, d) => product * d, 1);
        const expected = elements * (BYTES_PER_ELEMENT[dtype as string] as number);
        if (end < begin || end > dataLength) fail(`tensor "${name}": data_offsets [${begin}, ${end}] fall outside the ${dataLength} data bytes`, name);
        if (end - begin !== expected) fail(`tensor "${name}": shape [${(shape as number[]).join(", ")}] of ${dtype} needs ${expected} bytes, data_offsets give ${end - begin}`, name);
        entries.set(name, { dtype: dtype as string, shape: shape as number[], begin, end });
    }

    return {
        source,
        metadata,
        names: [...entries.keys()],
        tensor(name: string): Tensor {
            const entry = entries.get(name);
            if (entry === undefined) {
                return fail(`no tensor "${name}" (the file has: ${[...entries.keys()].join(", ") || "no tensors"})`, name);
            }
            const raw = bytes.subarray(dataStart + entry.begin, dataStart + entry.end);
            const data = decodeFloats(raw, entry.dtype);
            if (data === undefined) return fail(`tensor "${name}" has dtype ${entry.dtype}; expected F32, F16, BF16 or F64`, name);
            return { name, dtype: entry.dtype as SafetensorsDtype, shape: [...entry.shape], data };
        },
    };
}

function decodeFloats(raw: Uint8Array, dtype: string): Float32Array | undefined {
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    switch (dtype) {
        case "F32": {
            const out = new Float32Array(raw.byteLength / 4);
            for (let i = 0; i < out.length; i += 1) out[i] = view.getFloat32(i * 4, true);
            return out;
        }
        case "F64": {
            const out = new Float32Array(raw.byteLength / 8);
            for (let i = 0; i < out.length; i += 1) out[i] = view.getFloat64(i * 8, true);
            return out;
        }
        case "F16": {
            const out = new Float32Array(raw.byteLength / 2);
            for (let i = 0; i < out.length; i += 1) out[i] = halfToFloat(view.getUint16(i * 2, true));
            return out;
        }
        case "BF16": {
            const out = new Float32Array(raw.byteLength / 2);
            const word = new DataView(new ArrayBuffer(4));
            for (let i = 0; i < out.length; i += 1) {
                word.setUint32(0, view.getUint16(i * 2, true) << 16);
                out[i] = word.getFloat32(0);
            }
            return out;
        }
        default:
            return undefined;
    }
}

/** IEEE 754 binary16 → number (subnormals, infinities and NaN included). */
export function halfToFloat(bits: number): number {
    const sign = bits & 0x8000 ? -1 : 1;
    const exponent = (bits >> 10) & 0x1f;
    const fraction = bits & 0x3ff;
    if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
    if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
    return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/**
 * Serializes float32 tensors as safetensors (dtype F32, or F16/BF16 by rounding). For tests and for writing
 * converted value heads; header keys are sorted as the reference implementation writes them.
 */
export function encodeSafetensors(
    tensors: readonly { name: string; shape: readonly number[]; data: ArrayLike<number>; dtype?: "F32" | "F16" | "BF16" }[],
    metadata?: Record<string, string>,
): Uint8Array {
    const header: Record<string, unknown> = {};
    if (metadata !== undefined) header["__metadata__"] = metadata;
    const chunks: Uint8Array[] = [];
    let offset = 0;
    for (const tensor of [...tensors].sort((a, b) => (a.name < b.name ? -1 : 1))) {
        const dtype = tensor.dtype ?? "F32";
        const width = dtype === "F32" ? 4 : 2;
        const chunk = new Uint8Array(tensor.data.length * width);
        const view = new DataView(chunk.buffer);
        const scratch = new DataView(new ArrayBuffer(4));
        for (let i = 0; i < tensor.data.length; i += 1) {
            const value = tensor.data[i] as number;
            if (dtype === "F32") view.setFloat32(i * 4, value, true);
            else if (dtype === "F16") view.setUint16(i * 2, floatToHalf(value), true);
            else {
                scratch.setFloat32(0, value);
                const bits = scratch.getUint32(0);
                view.setUint16(i * 2, (bits + 0x7fff + ((bits >> 16) & 1)) >>> 16, true); // round to nearest even
            }
        }
        header[tensor.name] = { dtype, shape: [...tensor.shape], data_offsets: [offset, offset + chunk.length] };
        chunks.push(chunk);
        offset += chunk.length;
    }
    let json = JSON.stringify(header);
    while ((8 + Buffer.byteLength(json)) % 8 !== 0) json += " ";
    const headerBytes = Buffer.from(json, "utf8");
    const out = new Uint8Array(8 + headerBytes.length + offset);
    new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
    out.set(headerBytes, 8);
    let position = 8 + headerBytes.length;
    for (const chunk of chunks) {
        out.set(chunk, position);
        position += chunk.length;
    }
    return out;
}

/** number → IEEE 754 binary16 bits (round to nearest; overflow to infinity). */
export function floatToHalf(value: number): number {
    const scratch = new DataView(new ArrayBuffer(4));
    scratch.setFloat32(0, value);
    const bits = scratch.getUint32(0);
    const sign = (bits >>> 16) & 0x8000;
    const exponent = (bits >>> 23) & 0xff;
    const mantissa = bits & 0x7fffff;
    if (exponent === 0xff) return sign | 0x7c00 | (mantissa !== 0 ? 0x200 : 0);
    const half = exponent - 127 + 15;
    if (half >= 0x1f) return sign | 0x7c00;
    if (half <= 0) {
        if (half < -10) return sign;
        const m = (mantissa | 0x800000) >> (1 - half);
        return sign | ((m + 0x1000) >> 13);
    }
    return sign | ((half << 10) + ((mantissa + 0x1000) >> 13));
}
