import { Option, type Command } from "commander";
import { RstarError } from "../../errors/index.js";
import { GPU_CHOICES, LlamaCppBackend, defaultThreadCount, type GpuChoice, type GpuLayers } from "../../llm/index.js";
import { LlamaCppPpm, type StepAggregation } from "../../reward/index.js";
import { BASE_SETTINGS } from "../../search/index.js";
import { createGrader, type Grader } from "../../grading/index.js";
import { createSandbox, type Sandbox } from "../../sandbox/index.js";
import { chatPromptFormatter } from "../../steps/index.js";
import { startRstarServer } from "../../serve/index.js";
import { ExitCode, type ExitCodeValue } from "../exit-codes.js";
import { action, positiveInt } from "../run-command.js";
import { onInterrupt } from "../interrupt.js";
import { integer } from "../search-options.js";
import { describeLocalModel, gpuOptions, openServices } from "../services.js";

interface ServeFlags {
    policy?: string;
    policyUrl?: string[];
    model?: string;
    maxRequests?: number;
    rewardUrl?: string[];
    rewardModel?: string;
    valueHead?: string;
    prm?: boolean;
    prmAggregate?: StepAggregation;
    solverTimeoutMs?: number;
    ppm?: string;
    port: number;
    host: string;
    threads?: number;
    contextSize?: number;
    sequences?: number;
    modelName?: string;
    ppmName: string;
    apiKey?: string;
    solvers?: boolean;
    sandboxWorkers?: number;
    store: string | false;
    gpu?: GpuChoice;
    gpuLayers?: GpuLayers;
    chatTemplate?: boolean;
}

export function register(program: Command): void {
    program
        .command("serve")
        .description("serve a GGUF policy (and optionally a PPM) over HTTP in OpenAI/vLLM shapes, run in-process by llama.cpp (on the GPU when there is one)")
        .option("--policy <model.gguf>", "the policy model (GGUF), run here by llama.cpp")
        .option("--policy-url <url...>", "instead of --policy, with --solvers: an upstream OpenAI-compatible policy server (vLLM, SGLang, llama.cpp, Ollama, rstar serve), as `rstar search --policy-url` takes it")
        .option("--model <name>", "with --policy-url: the model name on the policy server")
        .option("--max-requests <n>", "with --policy-url: policy requests in flight at once", positiveInt("--max-requests"))
        .option("--ppm <dir>", "a PPM directory (model.gguf, value_head.safetensors, value_head.json) served on /pooling (with --policy-url: the solvers' reward model only)")
        .option("--reward-url <url...>", "with --policy-url: the solvers' reward model on a server with vLLM's pooling API (with --value-head or --prm), as for rstar search")
        .option("--reward-model <name>", "model name on the reward server")
        .option("--value-head <file>", "the PPM's value head (safetensors), applied here to the hidden states from --reward-url")
        .option("--prm", "--reward-url serves an off-the-shelf process reward model that scores steps itself")
        .addOption(new Option("--prm-aggregate <how>", "combine a PRM's per-step scores").choices(["last", "min", "product", "mean"]))
        .option("--port <port>", "port (0 picks a free one)", port, 8000)
        .option("--host <host>", "interface to listen on (no authentication: keep it local)", "127.0.0.1")
        .option("--threads <n>", `evaluation threads per model (default ${defaultThreadCount()}: CPUs - 1)`, positiveInt("--threads"))
        .option("--context-size <n>", "policy tokens per sequence, prompt included (default: the model's, at most 2048)", positiveInt("--context-size"))
        .option("--sequences <n>", "completions generated at once, each in its own llama.cpp context (default: cores / threads, at most 4)", positiveInt("--sequences"))
        .addOption(new Option("--gpu <api>", "llama.cpp compute for --policy and --ppm: auto (node-llama-cpp's detection, else the CPU; models under 64 MiB stay on the CPU), off, or one API").choices(GPU_CHOICES).default("auto"))
        .option("--gpu-layers <n>", "layers offloaded to the GPU: a number, or max (default: as many as fit, all for a model that fits)", (value: string) => (value === "max" ? "max" : integer("--gpu-layers", 0)(value)))
        .option("--no-chat-template", "with --solvers: the bootstrap prompt goes to the policy raw, not through the GGUF's chat template")
        .option("--model-name <name>", "served policy name (default: the file name without .gguf)")
        .option("--ppm-name <name>", "served PPM name", "ppm")
        .option("--solvers", "also serve the solver models rstar-greedy, rstar-bon-8 and (with --ppm) rstar-mcts: chat completions that run the search")
        .option("--sandbox-workers <n>", "Python sandbox workers for --solvers (default 2)", positiveInt("--sandbox-workers"))
        .option("--solver-timeout-ms <ms>", "longest one solver request may run; past it the search stops and the client gets 408 (x-should-retry: false) (default: no limit)", positiveInt("--solver-timeout-ms"))
        .option("--store <dir>", "run directory keeping every solved request (store.sqlite, results.jsonl, trees.jsonl)", "runs/serve")
        .option("--no-store", "do not keep solved requests")
        .option("--api-key <key>", "require Authorization: Bearer <key> on every request but /health (default: env RSTAR_SERVE_API_KEY; none)")
        .addHelpText(
            "after",
            `
Endpoints:
  GET  /v1/models        the policy and the PPM
  POST /v1/completions   prompt, n, stop, temperature, top_p, max_tokens, seed; vLLM's response (stop_reason);
                         stream: true sends OpenAI's server-sent events (stream_options.include_usage)
  POST /v1/chat/completions  the same for chat: messages (one user question, optionally a partial assistant
                         solution; system messages dropped) become the SFT prompt the policy was trained with
  With --solvers, chat to rstar-greedy, rstar-bon-8 or rstar-mcts runs the search (code run in the Python
                         sandbox, the PPM ranking); request field rstar: {rollouts, candidates, samples, temperature}
                         overrides (at most 64 each); the reply carries rstar: {answer, value, votes, tag, counters,
                         run}; solved requests are kept in --store (default runs/serve); --solver-timeout-ms limits
                         each (408, not retried by OpenAI clients). The policy is --policy, or an upstream server:
                         --policy-url URL --model NAME (the reward model: --ppm DIR, or --reward-url URL
                         --reward-model NAME with --value-head FILE or --prm; none: no rstar-mcts)
  POST /pooling          vLLM's pooling API (task embed): the PPM backbone's last-token hidden state;
                         send use_activation: false for the raw state (the default normalizes, as vLLM does)
  POST /v1/embeddings    the same, OpenAI's shape
A client that disconnects aborts its generation. Prints the base URL on stdout once listening; SIGINT/SIGTERM let
requests in flight finish, then stop.

Examples:
  rstar serve --policy runs/sft/model.gguf --ppm runs/ppm --port 8000 --threads 1
  # policy: openai:http://127.0.0.1:8000/v1 (model "model"); PPM: PoolingPpm at http://127.0.0.1:8000 (model "ppm")
  rstar serve --solvers --policy-url http://127.0.0.1:30000/v1 --model Qwen2.5-Math-7B --ppm runs/ppm --port 8001

Exit codes: 0 stopped; 2 bad usage (missing or unreadable model, port in use); 3 llama.cpp cannot start.`,
        )
        .action(action("serve", (flags: ServeFlags) => serveCommand(flags)));
}

async function serveCommand(flags: ServeFlags): Promise<ExitCodeValue> {
    if ((flags.policy === undefined) === (flags.policyUrl === undefined)) throw new RstarError("INVALID_ARGUMENT", "give the policy: --policy MODEL.gguf, or --policy-url URL --model NAME with --solvers");
    if (flags.policyUrl !== undefined) return serveUpstream(flags);
    const modelPath = flags.policy as string;
    const threads = flags.threads ?? defaultThreadCount();
    const policy = new LlamaCppBackend({
        modelPath,
        threads,
        ...gpuOptions(flags, "auto"),
        ...(flags.modelName === undefined ? {} : { model: flags.modelName }),
        ...(flags.contextSize === undefined ? {} : { contextSize: flags.contextSize }),
        ...(flags.sequences === undefined ? {} : { sequences: flags.sequences }),
    });
    let ppm: LlamaCppPpm | undefined;
    let sandbox: Sandbox | undefined;
    let grader: Grader | undefined;
    try {
        const info = await policy.describe();
        process.stderr.write(`${describeLocalModel("policy", info)}\n`);
        const render = flags.chatTemplate === false ? null : await policy.chatRenderer();
        if (flags.ppm !== undefined) {
            ppm = await LlamaCppPpm.fromDirectory(flags.ppm, { threads, ...gpuOptions(flags, "auto") });
            await ppm.load();
        }
        if (flags.solvers === true) {
            sandbox = await createSandbox({ workers: flags.sandboxWorkers ?? 2 });
            grader = createGrader();
        }
        const server = await startRstarServer({
            policy,
            maxModelLen: await policy.contextSize(),
            ...(ppm === undefined ? {} : { ppm: { source: ppm, model: flags.ppmName } }),
            host: flags.host,
            port: flags.port,
            ...apiKeyOption(flags.apiKey),
                ...(sandbox === undefined || grader === undefined ? {} : { solvers: { services: { policy, executor: sandbox, judge: grader, rewardModel: ppm, ...(render === null ? {} : { formatPrompt: chatPromptFormatter(render) }) }, ...solverOptions(flags) } }),
        });
        process.stdout.write(`${server.baseURL}\n`);
        process.stderr.write(
            `serving "${policy.model}"${ppm === undefined ? "" : ` and PPM "${flags.ppmName}"`}${sandbox === undefined ? "" : ` with solver models${flags.store === false ? "" : ` (solved requests kept in ${flags.store})`}`} at ${server.baseURL} with ${threads} thread(s) (Ctrl-C to stop)\n`,
        );
        const stopped = await untilStopped();
        await server.close();
        stopped();
        return ExitCode.ok;
    } catch (error) {
        if (RstarError.isInstance(error) && error.code === "INVALID_INPUT") throw new RstarError("INVALID_ARGUMENT", error.message, { cause: error });
        throw error;
    } finally {
        await sandbox?.dispose();
        await grader?.dispose();
        await ppm?.dispose();
        await policy.dispose();
    }
}

/**
 * Solver models over an upstream policy server: the policy, reward model, sandbox and grader are opened exactly as
 * `rstar search --policy-url` opens them (src/cli/services.ts); the upstream policy is also served as the raw model.
 */
async function serveUpstream(flags: ServeFlags): Promise<ExitCodeValue> {
    if (flags.solvers !== true) throw new RstarError("INVALID_ARGUMENT", "--policy-url serves solver models over an upstream policy: add --solvers (for the raw policy, use the upstream server itself)");
    const hasRewardModel = flags.ppm !== undefined || flags.rewardUrl !== undefined;
    const services = await openServices(
        {
            policyUrl: flags.policyUrl ?? [],
            ...(flags.model === undefined ? {} : { model: flags.model }),
            ...(flags.maxRequests === undefined ? {} : { maxRequests: flags.maxRequests }),
            ...(flags.threads === undefined ? {} : { threads: flags.threads }),
            ...(flags.ppm === undefined ? {} : { ppm: flags.ppm }),
            ...(flags.rewardUrl === undefined ? {} : { rewardUrl: flags.rewardUrl }),
            ...(flags.rewardModel === undefined ? {} : { rewardModel: flags.rewardModel }),
            ...(flags.valueHead === undefined ? {} : { valueHead: flags.valueHead }),
            ...(flags.prm === undefined ? {} : { prm: flags.prm }),
            ...(flags.prmAggregate === undefined ? {} : { prmAggregate: flags.prmAggregate }),
            ...gpuOptions(flags, "auto"),
            sandboxWorkers: flags.sandboxWorkers ?? 2,
        },
        BASE_SETTINGS,
        { rewardModel: hasRewardModel },
    );
    try {
        const server = await startRstarServer({
            policy: services.policy,
            ...(flags.modelName === undefined ? {} : { policyModel: flags.modelName }),
            host: flags.host,
            port: flags.port,
            ...apiKeyOption(flags.apiKey),
            solvers: { services, ...solverOptions(flags) },
        });
        process.stdout.write(`${server.baseURL}\n`);
        process.stderr.write(`serving solver models over ${services.description}${flags.store === false ? "" : ` (solved requests kept in ${flags.store})`} at ${server.baseURL} (Ctrl-C to stop)\n`);
        const stopped = await untilStopped();
        await server.close();
        stopped();
        return ExitCode.ok;
    } finally {
        await services.close();
    }
}

function solverOptions(flags: ServeFlags): { storeDir?: string; timeoutMs?: number } {
    return { ...(flags.store === false ? {} : { storeDir: flags.store }), ...(flags.solverTimeoutMs === undefined ? {} : { timeoutMs: flags.solverTimeoutMs }) };
}

/**
 * Resolves on SIGINT or SIGTERM. The listeners stay until `stopped` is called, after the server closed (see
 * interrupt.ts: node-llama-cpp's signal-exit re-raises a signal when its listener is the only one left, which a PPM
 * loaded on first use would otherwise do); a second signal exits at once with 130.
 */
async function untilStopped(): Promise<() => void> {
    let removeListeners: () => void = () => undefined;
    await new Promise<void>((resolve) => {
        removeListeners = onInterrupt(() => resolve());
    });
    process.stderr.write("stopping: letting requests in flight finish\n");
    return removeListeners;
}

/** --api-key, else env RSTAR_SERVE_API_KEY; an empty key is refused (it would let anyone in while looking set). */
export function apiKeyOption(flag: string | undefined): { apiKey?: string } {
    const key = flag ?? process.env["RSTAR_SERVE_API_KEY"];
    if (key === undefined) return {};
    if (key === "") throw new RstarError("INVALID_ARGUMENT", "--api-key (or RSTAR_SERVE_API_KEY) is empty");
    return { apiKey: key };
}

function port(value: string): number {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < 0 || parsed > 65535) throw new RstarError("INVALID_ARGUMENT", `--port must be an integer in 0..65535, got "${value}"`);
    return parsed;
}
