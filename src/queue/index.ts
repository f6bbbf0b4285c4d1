export { parseQueueUrl } from "./connection.js";
export type { QueueConnection } from "./connection.js";
export { runQueueSearch } from "./coordinator.js";
export type { QueueSearchOptions, QueueRunSummary } from "./coordinator.js";
export { startQueueWorker } from "./worker.js";
export type { QueueWorker, QueueWorkerOptions, QueueWorkerStats, WorkerServices } from "./worker.js";
export { REGISTRY_KEY, queueName, jobId } from "./names.js";
export { JOB_FORMAT, searchJobSchema, searchJobResultSchema } from "./job-schema.js";
export type { SearchJob, SearchJobResult } from "./job-schema.js";
