import { z } from "zod";
import { searchSettingsSchema } from "../search/index.js";

export const JOB_FORMAT = "rstar-queue-job/1";

/** One problem of a run, as the coordinator enqueues it: everything a worker needs to search it. */
export const searchJobSchema = z.object({
    format: z.literal(JOB_FORMAT),
    runId: z.string().min(1),
    /** The model the run's policy serves; workers ask their policy server for it. */
    model: z.string().min(1),
    problem: z.object({
        position: z.number().int().min(0),
        line: z.number().int().min(0),
        question: z.string(),
        answer: z.union([z.string(), z.array(z.string()), z.null()]),
        record: z.record(z.string(), z.unknown()),
    }),
    settings: searchSettingsSchema,
    /**
     * The models the worker must serve for this run (`--worker-models`, written by `rstar evolve --queue`): opaque to
     * the queue; `rstar worker` validates it, checks its checkpoint hashes and starts its servers. Absent in jobs of
     * runs that use each worker's own servers (and in jobs enqueued before the field existed).
     */
    workerModels: z.record(z.string(), z.unknown()).optional(),
});
export type SearchJob = z.infer<typeof searchJobSchema>;

/**
 * What a worker returns: the problem's results.jsonl and trees.jsonl records, exactly as a single-process run writes
 * them (a problem that failed on its own has `result.error` set and `tree.rstar` null).
 */
export const searchJobResultSchema = z.object({
    format: z.literal(JOB_FORMAT),
    position: z.number().int().min(0),
    result: z.record(z.string(), z.unknown()),
    tree: z.record(z.string(), z.unknown()),
    /** Which worker searched it ("host:pid"), for logs. */
    worker: z.string(),
});
export type SearchJobResult = z.infer<typeof searchJobResultSchema>;
