import { createHash } from "node:crypto";
import { createReadStream, existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { z } from "zod";
import { InputError, RstarError } from "../errors/index.js";
import { parseJson } from "../util/index.js";
import { endpointSchema, rewardSchema, type Placeholder } from "./config.js";
import { freePort, startServer, withPort, type RunningServer } from "./process.js";
import { policyServer, rewardFlags, type ServerSpec } from "./stages.js";

/**
 * The models the workers of a distributed run serve (`rstar search|eval --queue … --worker-models FILE`, written by
 * `rstar evolve --queue` as `round-N/worker-models-{search,eval}.json`): the policy as an evolve endpoint plus the
 * checkpoint it serves, the reward model as an evolve reward endpoint plus the PPM (or none), and the sha256 of every
 * checkpoint file a worker loads. The coordinator resolves it (absolute paths, hashes) and puts it into every job;
 * `rstar worker` checks the hashes against its own files, then starts the servers on its own host.
 */

export const WORKER_MODELS_FORMAT = "rstar-worker-models/1";

const fileSchema = z.strictObject({ path: z.string().min(1), sha256: z.string().regex(/^[0-9a-f]{64}$/, "a sha256 is 64 lowercase hex digits") });

export const workerModelsSchema = z.strictObject({
    format: z.literal(WORKER_MODELS_FORMAT),
    /** The policy server: an evolve endpoint (teacher, gguf, embedded, command template, url) and the checkpoint it serves ({policy}). */
    policy: z.strictObject({ endpoint: endpointSchema, checkpoint: z.string().min(1).nullable() }),
    /** The reward model: an evolve reward endpoint and the PPM checkpoint ({ppm}); null when the run uses none. */
    reward: z.strictObject({ endpoint: rewardSchema, ppm: z.string().min(1) }).nullable(),
    /** Placeholder values for command templates ({round} {seed} {dir}). */
    values: z.strictObject({ round: z.string(), seed: z.string(), dir: z.string() }).partial().default({}),
    /** Where server commands run (relative paths in templates resolve here); default: the file's folder. */
    cwd: z.string().min(1).optional(),
    /** Each checkpoint file a worker loads with its sha256; when absent the coordinator hashes its own copies. */
    files: z.array(fileSchema).optional(),
});
export type WorkerModelsFile = z.input<typeof workerModelsSchema>;
/** A resolved descriptor: absolute paths, `cwd` and `files` filled in (what jobs carry). */
export type WorkerModels = z.infer<typeof workerModelsSchema> & { cwd: string; files: { path: string; sha256: string }[] };

function placeholders(values: WorkerModels["values"]): Partial<Record<Placeholder, string>> {
    return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined));
}

/** The files of a checkpoint: the file itself, or the regular files at the top of its folder (subfolders such as trainer checkpoints are not loaded). */
function filesOf(path: string): string[] {
    if (!existsSync(path)) return [path];
    if (!statSync(path).isDirectory()) return [path];
    return readdirSync(path, { withFileTypes: true })
        .filter((entry) => entry.isFile())
        .map((entry) => join(path, entry.name))
        .sort();
}

/** The checkpoint files a worker loads for these models (on this host): what the hashes cover. */
export function checkpointFiles(models: Pick<WorkerModels, "policy" | "reward" | "values">): string[] {
    const files: string[] = [];
    const { endpoint, checkpoint } = models.policy;
    if (endpoint.kind === "gguf") files.push(endpoint.path);
    else if (endpoint.kind === "embedded" && checkpoint !== null) files.push(join(checkpoint, "model.gguf"));
    else if (endpoint.kind === "command" && checkpoint !== null) files.push(...filesOf(checkpoint));
    if (models.reward !== null) {
        const { endpoint: reward, ppm } = models.reward;
        if (reward.kind === "embedded" || reward.kind === "command") files.push(...filesOf(ppm));
        // The value head is applied by the searcher (on the worker) to a pooling server's hidden states.
        const pooling = rewardFlags(reward, ppm, placeholders(models.values), "worker models reward").pooling;
        if (pooling !== null) files.push(pooling.valueHead);
    }
    return [...new Set(files)];
}

export async function sha256File(path: string): Promise<string> {
    const hash = createHash("sha256");
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
    return hash.digest("hex");
}

/** The descriptor for these models, with the sha256 of each file as it is now on this host. */
export async function describeWorkerModels(models: { policy: WorkerModels["policy"]; reward: WorkerModels["reward"]; values: WorkerModels["values"]; cwd: string }): Promise<WorkerModels> {
    const files: WorkerModels["files"] = [];
    for (const path of checkpointFiles(models)) {
        if (!existsSync(path)) throw new RstarError("FILE_NOT_FOUND", `checkpoint file ${path} does not exist (the worker models need it)`);
        files.push({ path, sha256: await sha256File(path) });
    }
    return { format: WORKER_MODELS_FORMAT, policy: models.policy, reward: models.reward, values: models.values, cwd: models.cwd, files };
}

/**
 * Reads `--worker-models FILE`: validated (file and field named on an error), paths resolved against the file's
 * folder, and the files' hashes computed here when the file gives none.
 */
export async function readWorkerModels(file: string): Promise<WorkerModels> {
    let text: string;
    try {
        text = readFileSync(file, "utf8");
    } catch (error) {
        throw new RstarError("FILE_NOT_FOUND", `cannot read --worker-models ${file}: ${(error as Error).message}`);
    }
    const parsed = parseJson(text);
    if (!parsed.ok) throw new InputError(parsed.error, { file });
    return resolveWorkerModels(parsed.value, file);
}

/** Validates a descriptor (from a file, or a job) and resolves its paths against `file`'s folder. */
export async function resolveWorkerModels(value: unknown, file: string): Promise<WorkerModels> {
    const checked = workerModelsSchema.safeParse(value);
    if (!checked.success) {
        const issue = checked.error.issues[0];
        const field = issue?.path.join(".") || undefined;
        throw new InputError(issue?.message ?? "invalid worker models", { file, ...(field !== undefined ? { field } : {}) });
    }
    const base = dirname(resolve(file));
    const abs = (path: string) => (isAbsolute(path) ? path : resolve(base, path));
    const models = checked.data;
    const endpoint = models.policy.endpoint.kind === "gguf" ? { ...models.policy.endpoint, path: abs(models.policy.endpoint.path) } : models.policy.endpoint;
    const policy = { endpoint, checkpoint: models.policy.checkpoint === null ? null : abs(models.policy.checkpoint) };
    const reward = models.reward === null ? null : { endpoint: models.reward.endpoint, ppm: abs(models.reward.ppm) };
    const values = { ...models.values, ...(models.values.dir !== undefined ? { dir: abs(models.values.dir) } : {}) };
    const cwd = abs(models.cwd ?? ".");
    if (models.files === undefined) return describeWorkerModels({ policy, reward, values, cwd });
    return { format: WORKER_MODELS_FORMAT, policy, reward, values, cwd, files: models.files.map((entry) => ({ path: abs(entry.path), sha256: entry.sha256 })) };
}

/**
 * Checks that this host's checkpoint files are the run's: every file the models load is listed, exists here and has
 * the listed sha256. A mismatch is BACKEND_MODEL_NOT_FOUND (this host cannot serve the run's models; the job goes to
 * other workers) naming the file, the expected and the actual hash.
 */
export async function verifyWorkerModels(models: WorkerModels): Promise<void> {
    const listed = new Map(models.files.map((entry) => [entry.path, entry.sha256]));
    const hint = "every worker needs the run's checkpoints at the same paths (a shared filesystem, or identical copies)";
    for (const path of checkpointFiles(models)) {
        if (!listed.has(path)) throw new RstarError("BACKEND_MODEL_NOT_FOUND", `checkpoint file ${path} on this host is not among the run's files (${models.files.map((entry) => entry.path).join(", ") || "none"}); ${hint}`);
    }
    for (const [path, expected] of listed) {
        if (!existsSync(path)) throw new RstarError("BACKEND_MODEL_NOT_FOUND", `checkpoint file ${path} does not exist on this host (expected sha256 ${expected}); ${hint}`);
        const actual = await sha256File(path);
        if (actual !== expected) throw new RstarError("BACKEND_MODEL_NOT_FOUND", `checkpoint file ${path} differs from the run's: expected sha256 ${expected}, this host has ${actual}; ${hint}`);
    }
}

/** The model name the described policy server serves (what the run's jobs ask the workers' servers for). */
export function servedModel(models: WorkerModels): string {
    return policyServer(models.policy.endpoint, models.policy.checkpoint, placeholders(models.values), "worker models policy").model;
}

/** How config.json names the reward model of a run with worker models. */
export function describeReward(models: WorkerModels): string | null {
    if (models.reward === null) return null;
    const { endpoint, ppm } = models.reward;
    return endpoint.kind === "embedded" ? `worker models: PPM ${ppm} (in-process)` : `worker models: PPM ${ppm} on ${endpoint.kind === "url" ? endpoint.url : "a server each worker starts"} (model ${endpoint.model})`;
}

/** What a worker searches with once the models are up: the policy server, and the reward model as `rstar worker` flags. */
export interface ServedWorkerModels {
    policy: { url: string; model: string };
    /** `--ppm DIR` (in-process) or a pooling server with the PPM's value head; null: no reward model. */
    reward: { ppm: string } | { rewardUrl: string; rewardModel: string; valueHead: string } | null;
    /** What was started, for logs. */
    description: string;
    /** Stops the servers started here (their process groups). */
    close(): Promise<void>;
}

/**
 * Verifies the checkpoint files, then starts the described policy server (and reward server) on this host, as
 * `rstar evolve` starts them for a stage: the teacher, `rstar serve --policy …/model.gguf`, or the user's command
 * template (`vllm serve {policy} --port {port}`) with a free port; a `url` endpoint is used as it is.
 */
export async function startWorkerModels(models: WorkerModels, options: { log: (line: string) => void }): Promise<ServedWorkerModels> {
    await verifyWorkerModels(models);
    const started: RunningServer[] = [];
    const exitHandlers: (() => void)[] = [];
    const close = async () => {
        for (const handler of exitHandlers) process.off("exit", handler);
        await Promise.allSettled(started.map((server) => server.stop()));
    };
    const start = async (spec: ServerSpec): Promise<string> => {
        if (spec.start === null) return spec.url;
        const port = String(await freePort());
        const command = withPort(spec.start.command, port);
        const url = spec.url.replaceAll("{port}", port);
        options.log(`starting the ${spec.role} server ${url}`);
        const server = await startServer(command, url, {
            cwd: models.cwd,
            readyTimeoutMs: spec.start.readyTimeoutMs,
            onLine: (line) => options.log(`${spec.role} server | ${line}`),
            probePath: /\/v1\/?$/.test(url) ? "/models" : "/v1/models",
        });
        started.push(server);
        // A worker that exits without closing (an uncaught error) still takes its servers with it.
        const pid = server.pid;
        if (pid !== null) {
            const handler = () => {
                try {
                    process.kill(-pid, "SIGKILL");
                } catch {
                    // Gone.
                }
            };
            process.on("exit", handler);
            exitHandlers.push(handler);
        }
        return url;
    };
    try {
        const policySpec = policyServer(models.policy.endpoint, models.policy.checkpoint, placeholders(models.values), "worker models policy");
        const policyUrl = await start(policySpec);
        let reward: ServedWorkerModels["reward"] = null;
        if (models.reward !== null) {
            const spec = rewardFlags(models.reward.endpoint, models.reward.ppm, placeholders(models.values), "worker models reward");
            if (spec.pooling === null) reward = { ppm: models.reward.ppm };
            else reward = { rewardUrl: spec.pooling.url ?? (await start(spec.server as ServerSpec)), rewardModel: spec.pooling.model, valueHead: spec.pooling.valueHead };
        }
        const description = `policy ${policyUrl} (model ${policySpec.model}${models.policy.checkpoint === null ? "" : `, ${models.policy.checkpoint}`})${reward === null ? "" : "ppm" in reward ? `, PPM ${reward.ppm}` : `, reward ${reward.rewardUrl}`}`;
        return { policy: { url: policyUrl, model: policySpec.model }, reward, description, close };
    } catch (error) {
        await close();
        throw error;
    }
}
