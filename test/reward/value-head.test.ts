import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { sftPrompt } from "../../src/steps/index.js";
import { ValueHead, encodeSafetensors, floatToHalf, halfToFloat, parseSafetensors, ppmInputText, readSafetensorsFile } from "../../src/reward/index.js";

const dir = mkdtempSync(join(tmpdir(), "rstar-value-head-"));
const write = (name: string, bytes: Uint8Array) => {
    const path = join(dir, name);
    writeFileSync(path, bytes);
    return path;
};

describe("ppmInputText", () => {
    it("is exactly sftPrompt(question, partialSolution)", () => {
        for (const [question, partialSolution] of [["Compute 1+1.", ""], ["Q\nwith lines", "\n<code>\nx = 1\n<end_of_step>"]] as const) {
            expect(ppmInputText({ question, partialSolution })).toBe(sftPrompt(question, partialSolution));
        }
    });
});

describe("safetensors", () => {
    it("round-trips F32, F16 and BF16 with metadata", () => {
        const data = [0, 1, -2.5, 0.333, 65504, -1e-5];
        const file = parseSafetensors(
            encodeSafetensors(
                [
                    { name: "a", shape: [2, 3], data },
                    { name: "b", shape: [6], data, dtype: "F16" },
                    { name: "c", shape: [6], data, dtype: "BF16" },
                ],
                { format: "pt" },
            ),
        );
        expect(file.metadata).toEqual({ format: "pt" });
        expect(file.names.sort()).toEqual(["a", "b", "c"]);
        expect(file.tensor("a").shape).toEqual([2, 3]);
        [...file.tensor("a").data].forEach((value, index) => expect(value).toBeCloseTo(data[index] as number, 6));
        [...file.tensor("b").data].forEach((value, index) => expect(value).toBeCloseTo(data[index] as number, index === 4 ? 0 : 2));
        [...file.tensor("c").data].forEach((value, index) => expect(Math.abs(value - (data[index] as number))).toBeLessThanOrEqual(Math.abs(data[index] as number) / 128 + 1e-7));
    });

    it("decodes half floats exactly, subnormals and infinities included", () => {
        expect(halfToFloat(0x3c00)).toBe(1);
        expect(halfToFloat(0xc000)).toBe(-2);
        expect(halfToFloat(0x0001)).toBe(2 ** -24);
        expect(halfToFloat(0x7c00)).toBe(Infinity);
        expect(Number.isNaN(halfToFloat(0x7e00))).toBe(true);
        for (const value of [0.5, 1.25, -3, 2 ** -20, 1000]) expect(halfToFloat(floatToHalf(value))).toBe(value);
    });

    it("rejects bad files with messages naming the file and the tensor", () => {
        expect(() => parseSafetensors(new Uint8Array(3), "x.safetensors")).toThrow(/x\.safetensors.*shorter than the 8-byte/);
        const huge = new Uint8Array(16);
        new DataView(huge.buffer).setBigUint64(0, 1000n, true);
        expect(() => parseSafetensors(huge, "h.safetensors")).toThrow(/header length 1000 exceeds/);
        const header = (json: string) => {
            const text = Buffer.from(json);
            const out = new Uint8Array(8 + text.length + 8);
            new DataView(out.buffer).setBigUint64(0, BigInt(text.length), true);
            out.set(text, 8);
            return out;
        };
        expect(() => parseSafetensors(header("{nope"), "j.safetensors")).toThrow(/j\.safetensors.*not valid JSON/);
        expect(() => parseSafetensors(header('{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}'), "s.safetensors")).toThrow(/s\.safetensors.*"w".*needs 12 bytes, data_offsets give 8/);
        expect(() => parseSafetensors(header('{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}'), "o.safetensors")).toThrow(/outside the 8 data bytes/);
        expect(() => parseSafetensors(header('{"w":{"dtype":"Q4","shape":[2],"data_offsets":[0,8]}}'), "d.safetensors")).toThrow(/"w": unknown dtype "Q4"/);
        const ints = parseSafetensors(header('{"w":{"dtype":"I32","shape":[2],"data_offsets":[0,8]}}'), "i.safetensors");
        expect(() => ints.tensor("w")).toThrow(/i\.safetensors.*"w" has dtype I32/);
        expect(() => ints.tensor("v")).toThrow(/no tensor "v" \(the file has: w\)/);
    });

    it("reports a missing file as FILE_NOT_FOUND", async () => {
        await expect(readSafetensorsFile(join(dir, "missing.safetensors"))).rejects.toMatchObject({ code: "FILE_NOT_FOUND" });
    });
});

describe("ValueHead", () => {
    it("scores tanh((w·h + b) / scale) with scale 5 by default", () => {
        const head = new ValueHead([1, 2, 3], 0.5);
        expect(head.raw([1, 1, 1])).toBeCloseTo(6.5, 12);
        expect(head.score([1, 1, 1])).toBeCloseTo(Math.tanh(6.5 / 5), 12);
        expect(new ValueHead([1, 2, 3], 0.5, { scale: 1 }).score([1, 1, 1])).toBeCloseTo(Math.tanh(6.5), 12);
        expect(() => head.score([1, 1])).toThrow(/hidden state has 2 values; the value head expects 3/);
        expect(() => new ValueHead([1], 0, { scale: 0 })).toThrow(/scale/);
    });

    it("loads TRL-style v_head.summary.{weight,bias} [1, H] from safetensors, in any float dtype", async () => {
        const weight = [0.5, -0.25, 0.125, 1];
        for (const dtype of ["F32", "F16", "BF16"] as const) {
            const path = write(`trl-${dtype}.safetensors`, encodeSafetensors([
                { name: "v_head.summary.weight", shape: [1, 4], data: weight, dtype },
                { name: "v_head.summary.bias", shape: [1], data: [0.75], dtype },
            ]));
            const head = await ValueHead.load(path);
            expect([...head.weight]).toEqual(weight);
            expect(head.bias).toBe(0.75);
            expect(head.hiddenSize).toBe(4);
        }
    });

    it("loads a plain weight/bias head, or a weight alone (bias 0), or named tensors", async () => {
        const plain = await ValueHead.load(write("plain.safetensors", encodeSafetensors([{ name: "weight", shape: [3], data: [1, 2, 3] }, { name: "bias", shape: [], data: [2] }])));
        expect(plain.bias).toBe(2);
        const noBias = await ValueHead.load(write("nobias.safetensors", encodeSafetensors([{ name: "summary.weight", shape: [1, 2], data: [1, 2] }])));
        expect(noBias.bias).toBe(0);
        const named = await ValueHead.load(write("named.safetensors", encodeSafetensors([
            { name: "head.a.weight", shape: [1, 2], data: [1, 2] },
            { name: "head.b.weight", shape: [1, 2], data: [3, 4] },
        ])), { weightName: "head.b.weight", scale: 2 });
        expect([...named.weight]).toEqual([3, 4]);
        expect(named.scale).toBe(2);
    });

    it("names the file and tensor when shapes are wrong or names ambiguous", async () => {
        const wide = write("wide.safetensors", encodeSafetensors([{ name: "weight", shape: [2, 3], data: [1, 2, 3, 4, 5, 6] }]));
        await expect(ValueHead.load(wide)).rejects.toThrow(/wide\.safetensors.*"weight" has shape \[2, 3\].*expected \[1, hidden\] or \[hidden\]/);
        const twoBias = write("bias2.safetensors", encodeSafetensors([{ name: "weight", shape: [2], data: [1, 2] }, { name: "bias", shape: [2], data: [1, 2] }]));
        await expect(ValueHead.load(twoBias)).rejects.toThrow(/bias2\.safetensors.*bias tensor "bias" has shape \[2\]/);
        const ambiguous = write("amb.safetensors", encodeSafetensors([{ name: "a.weight", shape: [2], data: [1, 2] }, { name: "b.weight", shape: [2], data: [1, 2] }]));
        await expect(ValueHead.load(ambiguous)).rejects.toThrow(/several candidate weight tensors \(a\.weight, b\.weight\)/);
        await expect(ValueHead.load(join(dir, "value_head.bin"))).rejects.toThrow(/convert the head once with:[\s\S]*save_file/);
    });
});
