import { describe as group, expect, it } from "vitest";
import type { RunProgress } from "../runs/index.js";
import { describe } from "./progress-display.js";

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
