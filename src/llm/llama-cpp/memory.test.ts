import { describe, expect, it } from "vitest";
import { formatBytes, memoryCaps, parseByteSize } from "./shared-llama.js";

describe("memory caps (RSTAR_MAX_RAM, RSTAR_MAX_VRAM)", () => {
    it("reads sizes in binary units, with or without B/iB, or plain bytes", () => {
        expect(parseByteSize("512MiB", "X")).toBe(512 * 1024 ** 2);
        expect(parseByteSize("2G", "X")).toBe(2 * 1024 ** 3);
        expect(parseByteSize("1.5GB", "X")).toBe(1.5 * 1024 ** 3);
        expect(parseByteSize("2500KiB", "X")).toBe(2_560_000);
        expect(parseByteSize("1048576", "X")).toBe(1_048_576);
    });

    it("refuses what is not a size, naming the variable", () => {
        expect(() => parseByteSize("lots", "RSTAR_MAX_RAM")).toThrow(/RSTAR_MAX_RAM must be a size such as 512MiB/);
        expect(() => memoryCaps({ RSTAR_MAX_VRAM: "-1G" })).toThrow(/RSTAR_MAX_VRAM/);
    });

    it("no variable (or an empty one) means no cap", () => {
        expect(memoryCaps({})).toEqual({ ram: null, vram: null });
        expect(memoryCaps({ RSTAR_MAX_RAM: "1MiB", RSTAR_MAX_VRAM: "" })).toEqual({ ram: 1024 ** 2, vram: null });
    });

    it("formats sizes as the errors print them", () => {
        expect(formatBytes(2_038_784)).toBe("1.9 MiB");
        expect(formatBytes(1024 ** 3 * 4.4)).toBe("4.4 GiB");
        expect(formatBytes(512)).toBe("512 B");
    });
});
