import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { collect, firstLine, runRstar, spawnRstar } from "../support/cli.js";
import { hostileRun } from "./fixtures.js";

describe("rstar ui on the command line", () => {
    it("listens on 127.0.0.1, prints its URL, refuses a taken port and a missing directory (exit 2), stops on SIGINT (exit 0)", async () => {
        const dir = mkdtempSync(join(tmpdir(), "rstar-ui-cli-"));
        hostileRun(join(dir, "one"));
        const viewer = spawnRstar(["ui", dir, "--port", "0"]);
        const url = await firstLine(viewer);
        expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
        const body = (await (await fetch(`${url}api/runs`)).json()) as { runs: { path: string }[] };
        expect(body.runs.map((run) => run.path)).toEqual([`${dir.split("/").pop()}/one`]);

        const taken = await runRstar(["ui", dir, "--port", new URL(url).port]);
        expect(taken.code).toBe(2);
        expect(taken.stderr).toMatch(/rstar ui: cannot listen on 127\.0\.0\.1:\d+/);

        const missing = await runRstar(["ui", join(dir, "nope")]);
        expect(missing.code).toBe(2);
        expect(missing.stderr).toContain(`${join(dir, "nope")}: `);

        const done = collect(viewer);
        viewer.kill("SIGINT");
        expect((await done).code).toBe(0);
    }, 60_000);
});
