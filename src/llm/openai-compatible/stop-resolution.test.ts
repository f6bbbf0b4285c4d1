import { describe, expect, it } from "vitest";
import { resolveStop } from "./stop-resolution.js";

const stops = ["<end_of_step>", "<end_of_code>", "<end_of_answer>"];

describe("resolveStop", () => {
    it("length: no stop, text untouched", () => {
        expect(resolveStop("x = 1", "length", undefined, stops)).toEqual({ text: "x = 1", stop: null, stopInferred: false });
    });

    it("a reported stop string wins, and is cut from the text if the server left it in", () => {
        expect(resolveStop("x = 1\n", "stop", "<end_of_code>", stops)).toEqual({ text: "x = 1\n", stop: "<end_of_code>", stopInferred: false });
        expect(resolveStop("x = 1\n<end_of_code>", "stop", "<end_of_code>", stops)).toEqual({ text: "x = 1\n", stop: "<end_of_code>", stopInferred: false });
    });

    it("a reported token id or null means no stop string", () => {
        expect(resolveStop("done", "stop", 151643, stops)).toEqual({ text: "done", stop: null, stopInferred: false });
        expect(resolveStop("done", "stop", null, stops)).toEqual({ text: "done", stop: null, stopInferred: false });
    });

    it("unreported: a stop at the end of the text is certain (longest wins)", () => {
        expect(resolveStop("a<end_of_step>", "stop", undefined, stops)).toEqual({ text: "a", stop: "<end_of_step>", stopInferred: false });
        expect(resolveStop("a<b>", "stop", undefined, ["b>", "<b>"])).toEqual({ text: "a", stop: "<b>", stopInferred: false });
    });

    it("unreported: first candidate not already in the text, flagged as inferred", () => {
        expect(resolveStop("a", "stop", undefined, stops)).toEqual({ text: "a", stop: "<end_of_step>", stopInferred: true });
        expect(resolveStop("a <end_of_step> b", "stop", undefined, stops)).toEqual({ text: "a <end_of_step> b", stop: "<end_of_code>", stopInferred: true });
    });

    it("unreported with no possible candidate: end-of-sequence", () => {
        expect(resolveStop("a", "stop", undefined, [])).toEqual({ text: "a", stop: null, stopInferred: false });
        expect(resolveStop("<end_of_step>x", "stop", undefined, ["<end_of_step>"])).toEqual({ text: "<end_of_step>x", stop: null, stopInferred: false });
    });

    it("unreported: a resolver decides among candidates; an answer outside them means EOS", () => {
        const resolver = (text: string) => (text.includes("<answer>") ? "<end_of_answer>" : "bogus");
        expect(resolveStop("<answer>7", "stop", undefined, stops, resolver)).toEqual({ text: "<answer>7", stop: "<end_of_answer>", stopInferred: true });
        expect(resolveStop("x", "stop", undefined, stops, resolver)).toEqual({ text: "x", stop: null, stopInferred: true });
    });
});
