import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import type { RunProgress } from "../runs/index.js";
import { ProgressDisplay, formatDuration } from "./progress-display.js";

const progress = (done: number, etaMs: number | null): RunProgress => ({
    total: 10,
    done,
    failed: 0,
    inProgress: 2,
    graded: done,
    correct: done,
    passAny: done,
    rollouts: 4,
    nodes: 20,
    requestsInFlight: 1,
    elapsedMs: 5_000,
    nodesPerSecond: 4,
    etaMs,
});

function terminal(): { stream: PassThrough; text: () => string } {
    const stream = new PassThrough();
    Object.assign(stream, { isTTY: true, columns: 400 });
    let text = "";
    stream.on("data", (chunk: Buffer) => (text += chunk.toString()));
    return { stream, text: () => text };
}

describe("progress display", () => {
    it("the live bar shows our ETA with units, and '-' before the first problem ends (never cli-progress's INF)", () => {
        const { stream, text } = terminal();
        const display = new ProgressDisplay("search", true, 10_000, false, stream);
        display.update(progress(0, null));
        expect(text()).toContain("ETA -");
        display.update(progress(3, 125_000));
        display.stop();
        expect(text()).not.toMatch(/ETA INF|ETA \d+(\s|$)/);
        expect(text()).toContain("ETA 2m05s");
    });

    it("formats durations with units", () => {
        expect([formatDuration(4_400), formatDuration(125_000), formatDuration(3_780_000)]).toEqual(["4s", "2m05s", "1h03m"]);
    });
});
