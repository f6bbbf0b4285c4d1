import { describe, expect, it } from "vitest";
import { PrefixIndex } from "./prefix-index.js";

describe("PrefixIndex", () => {
    const a = { name: "a" };
    const b = { name: "b" };

    it("finds the longest recorded program a code extends at a line break, and its worker", () => {
        const index = new PrefixIndex<object>(8);
        index.expect("x = 1", a);
        index.expect("x = 1\ny = 2", b);
        expect(index.lookup("x = 1\ny = 2\nprint(y)")).toEqual({ worker: b, length: 11 });
        expect(index.lookup("x = 1\nz = 3")).toEqual({ worker: a, length: 5 });
        expect(index.lookup("x = 12\nz = 3")).toBeUndefined(); // not at a line break
        expect(index.lookup("x = 1")).toBeUndefined(); // the program itself is not an extension
    });

    it("forgets entries the worker did not keep, entries of a retired worker, and the oldest past the cap", () => {
        const index = new PrefixIndex<object>(2);
        index.expect("p1", a);
        index.expect("p2", a);
        index.expect("p3", a);
        expect(index.lookup("p1\nmore")).toBeUndefined();
        expect(index.lookup("p3\nmore")?.worker).toBe(a);
        index.forget("p3", b); // another worker's answer does not remove a's entry
        expect(index.lookup("p3\nmore")?.worker).toBe(a);
        index.forget("p3", a);
        expect(index.lookup("p3\nmore")).toBeUndefined();
        index.expect("p2", b); // moved to another worker
        index.dropWorker(a);
        expect(index.lookup("p2\nmore")?.worker).toBe(b);
        index.dropWorker(b);
        expect(index.size).toBe(0);
    });
});
