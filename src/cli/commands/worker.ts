import { Option, type Command } from "commander";
import { RstarError } from "../../errors/index.js";
import { parseQueueUrl, startQueueWorker, type WorkerServices } from "../../queue/index.js";
import { BASE_SETTINGS } from "../../search/index.js";
import { findPython } from "../../util/index.js";
import { ExitCode } from "../exit-codes.js";
import { onInterrupt } from "../interrupt.js";
import { action } from "../run-command.js";
import { integer } from "../search-options.js";
import { SHIPPED_POLICY_MODEL, openServices, type ServiceFlags } from "../services.js";

interface WorkerFlags extends ServiceFlags {
    queue: string;
    concurrency: number;
    run?: string[];
    lockDurationMs: number;
    stalledIntervalMs: number;
    maxStalled: number;
    pauseMs: number;
}

export function register(program: Command): void {
    const command = program
        .command("worker")
        .description("search problems of distributed runs (rstar search --queue) from a Redis queue, with this host's policy server")
        .requiredOption("--queue <url>", "Redis holding the runs' queues: redis://[user:password@]HOST:PORT[/DB], rediss:// for TLS (password also from RSTAR_REDIS_PASSWORD)")
        .option("--policy-url <url...>", "this host's policy server(s), e.g. http://127.0.0.1:8000/v1 (vLLM, SGLang); the model name comes from the run; default: the shipped tiny policy through llama.cpp")
        .option("--ppm <dir>", "reward model: a PPM directory run locally by llama.cpp; default: the shipped PPM")
        .option("--reward-url <url...>", "reward model on a server with vLLM's pooling API (with --value-head for a PPM backbone, or --prm)")
        .option("--reward-model <name>", "model name on the reward server")
        .option("--value-head <file>", "the PPM's value head (safetensors), applied here to the last token's hidden state from --reward-url")
        .option("--prm", "--reward-url serves an off-the-shelf process reward model that scores steps itself")
        .addOption(new Option("--prm-aggregate <how>", "combine a PRM's per-step scores").choices(["last", "min", "product", "mean"]))
        .addOption(new Option("--concurrency <n>", "problems searched at once (per run served)").default(8).argParser(integer("--concurrency")))
        .option("--run <id...>", "serve only these run ids (default: every run in the queue's registry)")
        .option("--max-requests <n>", "policy requests in flight at once", integer("--max-requests"))
        .option("--request-timeout-ms <ms>", "timeout of one policy request", integer("--request-timeout-ms"))
        .option("--sandbox-workers <n>", "Python sandbox workers (default: number of cores)", integer("--sandbox-workers"))
        .option("--threads <n>", "llama.cpp threads per context for the shipped models", integer("--threads"))
        .addOption(new Option("--lock-duration-ms <ms>", "a job's lock; a killed worker's problems are retried elsewhere after it").default(30_000).argParser(integer("--lock-duration-ms")))
        .addOption(new Option("--stalled-interval-ms <ms>", "how often this worker looks for jobs whose worker died").default(30_000).argParser(integer("--stalled-interval-ms")))
        .addOption(new Option("--max-stalled <n>", "a problem whose worker died this many times is recorded as failed").default(2).argParser(integer("--max-stalled")))
        .addOption(new Option("--pause-ms <ms>", "first pause after this host's policy server or sandbox failed (doubles, up to 60 s)").default(5000).argParser(integer("--pause-ms")));
    command.addHelpText(
        "after",
        `
A worker serves every run registered in the Redis at --queue (a coordinator, \`rstar search --queue URL\`, registers
its run and removes it when the run is complete): each job is one problem with the run's settings and model name;
the worker searches it against its own policy server and returns the results and trees records. Results equal a
single-process run's: seeds derive from problem and node, not from where or when a problem is searched.
Faults: a killed worker's problems are retried elsewhere once their lock expires (--lock-duration-ms); when this
host's policy server is unreachable, the jobs in progress fail (retried elsewhere, up to the run's attempts) and the
worker pauses until the server answers. SIGTERM or Ctrl-C hands the problems in progress back to the queue and exits
with 0 (a second signal exits at once with 130). Every worker must serve the same model and reward model.
Jobs that name their worker models (\`rstar evolve --queue\`, \`rstar search --queue --worker-models FILE\`) need no
--policy-url: the worker checks the sha256 of the checkpoint files on this host (a mismatch fails the attempt with
the file and both hashes, and the job goes to other workers), then starts the named servers here (the teacher,
\`rstar serve --policy …/model.gguf\`, or the run's command template such as \`vllm serve {policy} --port {port}\`) and
loads an embedded PPM in this process (--threads, --gpu and the other tuning flags apply). It keeps them while jobs
name the same models, stops them before starting other ones, and stops them when it exits.
See docs/distributed.md.

Examples:
  rstar worker --queue redis://10.0.0.5:6379 --policy-url http://127.0.0.1:8000/v1 --concurrency 64
  RSTAR_REDIS_PASSWORD=... rstar worker --queue rediss://redis.internal:6380/2 --policy-url http://127.0.0.1:8000/v1
  rstar worker --queue redis://10.0.0.5:6379 --concurrency 64      # serves what the jobs name (rstar evolve --queue)

Exit codes: 0 stopped by SIGTERM or Ctrl-C; 2 bad usage; 3 Redis unreachable.`,
    );
    command.action(action("worker", async (flags: WorkerFlags) => workerCommand(flags)));
}

async function workerCommand(flags: WorkerFlags) {
    const connection = parseQueueUrl(flags.queue);
    checkRewardFlags(flags);
    const shipped = (flags.policyUrl ?? []).every((url) => url.trim() === "");
    const log = (line: string) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${line}\n`);
    const open = async (model: string, workerModels?: Record<string, unknown>): Promise<WorkerServices> => {
        if (workerModels !== undefined) return openWorkerModels(flags, model, workerModels, log);
        if (shipped && model !== SHIPPED_POLICY_MODEL) {
            throw new RstarError("BACKEND_MODEL_NOT_FOUND", `this worker runs the shipped tiny policy (no --policy-url); the run needs model "${model}"`);
        }
        const services = await openServices({ ...flags, ...(shipped ? {} : { model }) }, BASE_SETTINGS, { rewardModel: true });
        return { policy: services.policy, executor: services.executor, judge: services.judge, rewardModel: services.rewardModel, close: () => services.close() };
    };
    // The Python probes (findPython: spawnSync, seconds to import sympy) would block the event loop inside the first
    // job, long enough to lose its lock: run them now. A failure is left for the first job to report.
    for (const modules of [["sympy", "numpy"], ["sympy"]]) {
        try {
            findPython({ modules, purpose: "the Python sandbox and grader" });
        } catch {
            // PYTHON_UNAVAILABLE: the jobs fail with it, and the worker pauses.
        }
    }
    let stopped!: () => void;
    const stop = new Promise<void>((resolve) => (stopped = resolve));
    let signalName: NodeJS.Signals | null = null;
    const stopListening = onInterrupt((signal) => {
        signalName = signal;
        stopped();
    });
    try {
        const worker = await startQueueWorker({
            connection,
            openServices: open,
            concurrency: flags.concurrency,
            lockDurationMs: flags.lockDurationMs,
            stalledIntervalMs: flags.stalledIntervalMs,
            maxStalledCount: flags.maxStalled,
            pauseMs: flags.pauseMs,
            ...(flags.run !== undefined ? { runs: flags.run } : {}),
            log,
        });
        log(`worker ${worker.name} on ${connection.display}: policy ${shipped ? "the shipped tiny policy" : (flags.policyUrl ?? []).join(", ")}, ${flags.concurrency} problems at once`);
        await stop;
        log(`${signalName ?? "signal"}: handing ${worker.active()} problem(s) in progress back to the queue and exiting`);
        await worker.close({ release: true });
        log(`stopped: ${worker.stats.searched} problems searched, ${worker.stats.failedAttempts} failed attempts, ${worker.stats.released} released`);
    } finally {
        stopListening();
    }
    return ExitCode.ok;
}

/**
 * A job that names its worker models (`rstar evolve --queue`, `rstar search --queue --worker-models`): the checkpoint
 * hashes are checked against this host's files, then the policy server (and reward server) start here; this worker's
 * --policy-url / --ppm / --reward-url are not used for it. Closing the services stops the servers.
 */
async function openWorkerModels(flags: WorkerFlags, model: string, value: Record<string, unknown>, log: (line: string) => void): Promise<WorkerServices> {
    // Imported here: workers of plain runs do not load the evolve module.
    const { resolveWorkerModels, startWorkerModels } = await import("../../evolve/index.js");
    const models = await resolveWorkerModels(value, "the job's workerModels").catch((error: unknown) => {
        // A descriptor this version cannot read cannot be served here: an environment error, so another worker may.
        throw new RstarError("BACKEND_MODEL_NOT_FOUND", `cannot serve the run's worker models: ${(error as Error).message}`);
    });
    const served = await startWorkerModels(models, { log });
    if (served.policy.model !== model) {
        await served.close();
        throw new RstarError("BACKEND_MODEL_NOT_FOUND", `the run's worker models serve model "${served.policy.model}", but its jobs ask for "${model}"`);
    }
    log(`serving the run's worker models: ${served.description}`);
    try {
        // This host's tuning flags apply (sandbox workers, threads, request limits, GPU); the models are the run's.
        const { policy: _policy, policyUrl: _policyUrl, ppm: _ppm, rewardUrl: _rewardUrl, rewardModel: _rewardModel, valueHead: _valueHead, prm: _prm, prmAggregate: _prmAggregate, ...tuning } = flags;
        const serviceFlags: ServiceFlags = {
            ...tuning,
            policyUrl: [served.policy.url],
            model,
            ...(served.reward === null ? {} : "ppm" in served.reward ? { ppm: served.reward.ppm } : { rewardUrl: [served.reward.rewardUrl], rewardModel: served.reward.rewardModel, valueHead: served.reward.valueHead }),
        };
        const services = await openServices(serviceFlags, BASE_SETTINGS, { rewardModel: served.reward !== null });
        return {
            policy: services.policy,
            executor: services.executor,
            judge: services.judge,
            rewardModel: services.rewardModel,
            close: async () => {
                await services.close();
                await served.close();
                log(`stopped the worker models' servers (${served.description})`);
            },
        };
    } catch (error) {
        await served.close();
        throw error;
    }
}

function checkRewardFlags(flags: WorkerFlags): void {
    if ((flags.rewardUrl ?? []).length === 0) return;
    if (flags.rewardModel === undefined) throw new RstarError("INVALID_ARGUMENT", "--reward-model is required with --reward-url");
    if (!flags.prm && flags.valueHead === undefined) throw new RstarError("INVALID_ARGUMENT", "--reward-url needs --value-head FILE (a PPM's head, applied here) or --prm (a PRM that scores steps itself)");
}
