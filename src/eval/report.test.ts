import { describe, expect, it } from "vitest";
import { BASE_SETTINGS } from "../search/index.js";
import { project } from "./report.js";
import type { EvalSummary } from "./run-eval.js";

describe("cost projection", () => {
    it("scales the measured cost per problem by K over the trajectories the run asked for, and divides time by servers", () => {
        const summary = {
            method: "bon@8",
            settings: { ...BASE_SETTINGS, algorithm: "best-of-n", samples: 8 },
            seconds_per_problem: 10,
            concurrency: 2,
            tokens_per_problem: 1000,
            // Fewer finished than asked: the projection must not scale by this.
            trajectories_per_problem: 5.4,
        } as unknown as EvalSummary;
        const p = project(summary, { problems: 100, rollouts: 16, servers: 4 });
        expect(p.measuredTrajectories).toBe(8);
        expect(p.secondsPerProblemPerServer).toBe(5);
        expect(p.hours).toBeCloseTo((100 * 5 * 2) / 4 / 3600, 12);
        expect(p.tokens).toBe(200_000);
        const same = project(summary, { problems: 100, rollouts: null, servers: 1 });
        expect(same.tokens).toBe(100_000);
        expect(same.hours).toBeCloseTo((100 * 5) / 3600, 12);
    });
});
