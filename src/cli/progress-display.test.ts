import { PassThrough } from "node:stream";
import { describe as group, expect, it } from "vitest";
import type { RunProgress } from "../runs/index.js";
import { ProgressDisplay, describe, formatDuration } from "./progress-display.js";

const progress = (counts: Partial<RunProgress>): RunProgress => ({
    total: 4,
    done: 4,
    failed: 0,
    inProgress: 0,
    graded: 0,
    correct: 0,
    passAny: 0,
    blindGraded: 0,
    blindCorrect: 0,
    rollouts: 8,
    nodes: 40,
    requestsInFlight: 0,
    elapsedMs: 1000,
    nodesPerSecond: 40,
    etaMs: 0,
    ...counts,
});

function terminal(): { stream: PassThrough; text: () => string } {
    const stream = new PassThrough();
    Object.assign(stream, { isTTY: true, columns: 400 });
    let text = "";
    stream.on("data", (chunk: Buffer) => (text += chunk.toString()));
    return { stream, text: () => text };
}

group("progress line: what the score measures", () => {
    it("shows the share solved by any rollout when selection saw the gold answer, never an accuracy", () => {
        const line = describe(progress({ graded: 4, correct: 3, passAny: 3 }));
        expect(line).toContain("solved 75.0% (3/4)");
        expect(line).not.toContain("accuracy");
    });

    it("shows the selected answers' accuracy when selection did not see the gold answer", () => {
        const line = describe(progress({ graded: 4, correct: 1, passAny: 3, blindGraded: 4, blindCorrect: 1 }));
        expect(line).toContain("accuracy 25.0% (1/4)");
        expect(describe(progress({}))).toContain("accuracy -");
    });
});

group("progress display", () => {
    it("the live bar shows our ETA with units, and '-' before the first problem ends (never cli-progress's INF)", () => {
        const { stream, text } = terminal();
        const display = new ProgressDisplay("search", true, 10_000, false, stream);
        display.update(progress({ total: 10, done: 0, etaMs: null }));
        expect(text()).toContain("ETA -");
        display.update(progress({ total: 10, done: 3, etaMs: 125_000 }));
        display.stop();
        expect(text()).not.toMatch(/ETA INF|ETA \d+(\s|$)/);
        expect(text()).toContain("ETA 2m05s");
    });

    it("formats durations with units", () => {
        expect([formatDuration(4_400), formatDuration(125_000), formatDuration(3_780_000)]).toEqual(["4s", "2m05s", "1h03m"]);
    });
});
