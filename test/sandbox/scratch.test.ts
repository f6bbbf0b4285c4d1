import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createSandbox } from "../../src/sandbox/index.js";

describe("sandbox scratch space", () => {
    it("lives under a folder named after this process, removes it on dispose, and sweeps folders of dead processes", async () => {
        const orphan = join(tmpdir(), "rstar-sandbox-2147483646-orphan");
        mkdirSync(join(orphan, "w1"), { recursive: true });
        const mine = () => readdirSync(tmpdir()).filter((name) => name.startsWith(`rstar-sandbox-${process.pid}-`));
        const before = mine().length;
        const sandbox = await createSandbox({ workers: 1 });
        expect(existsSync(orphan)).toBe(false);
        expect(mine().length).toBe(before + 1);
        expect((await sandbox.run("open('f.txt', 'w').write('x')\nprint(open('f.txt').read())")).observation).toBe("x");
        await sandbox.dispose();
        expect(mine().length).toBe(before);
    });
});
