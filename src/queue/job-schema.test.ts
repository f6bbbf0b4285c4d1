import { describe, expect, it } from "vitest";
import { BASE_SETTINGS } from "../search/index.js";
import { JOB_FORMAT, searchJobSchema } from "./job-schema.js";

const job = {
    format: JOB_FORMAT,
    runId: "0123456789abcdef",
    model: "policy",
    problem: { position: 3, line: 4, question: "Compute 2 + 2.", answer: "4", record: { question: "Compute 2 + 2.", answer: "4" } },
    settings: BASE_SETTINGS,
};

describe("queue jobs", () => {
    it("a job without worker models (as enqueued before they existed) is valid and names none", () => {
        const parsed = searchJobSchema.safeParse(job);
        expect(parsed.success).toBe(true);
        expect(parsed.data?.workerModels).toBeUndefined();
    });

    it("a job may carry the worker models its run serves, kept as given", () => {
        const workerModels = { format: "rstar-worker-models/1", policy: { endpoint: { kind: "teacher" }, checkpoint: null }, reward: null, values: {}, cwd: "/runs", files: [] };
        const parsed = searchJobSchema.safeParse({ ...job, workerModels });
        expect(parsed.success).toBe(true);
        expect(parsed.data?.workerModels).toEqual(workerModels);
        expect(searchJobSchema.safeParse({ ...job, workerModels: "teacher" }).success).toBe(false);
    });
});
