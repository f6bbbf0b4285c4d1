import { availableParallelism } from "node:os";
import { locateShippedModels } from "../demo/index.js";
import { RstarError } from "../errors/index.js";
import { createGrader, type Grader } from "../grading/index.js";
import {
    LlamaCppBackend,
    OpenAiCompatibleBackend,
    defaultThreadCount,
    formatBytes,
    type GpuChoice,
    type GpuLayers,
    type LlamaCppPolicyInfo,
    type LlmBackend,
    type RetryEvent,
} from "../llm/index.js";
import { BatchingRewardModel, HttpPrm, LlamaCppPpm, PoolingPpm, ValueHead, type RewardModel, type StepAggregation } from "../reward/index.js";
import { createSandbox } from "../sandbox/index.js";
import type { SearchServices, SearchSettings, StepExecutor } from "../search/index.js";
import { chatPromptFormatter, inferStepStop, type PromptFormatter } from "../steps/index.js";

/** The model name the shipped tiny policy runs under (what runs record, and what a queue run without --model sends). */
export const SHIPPED_POLICY_MODEL = "rstar-tiny-policy";

export interface ServiceFlags {
    /** A local GGUF policy run in-process. */
    policy?: string;
    policyUrl?: string[];
    model?: string;
    maxRequests?: number;
    requestTimeoutMs?: number;
    sandboxWorkers?: number;
    threads?: number;
    ppm?: string;
    rewardUrl?: string[];
    rewardModel?: string;
    valueHead?: string;
    prm?: boolean;
    prmAggregate?: StepAggregation;
    /** llama.cpp compute for --policy and --ppm (default auto; the shipped models: off unless given). */
    gpu?: GpuChoice;
    gpuLayers?: GpuLayers;
    /** false: the bootstrap prompt goes to --policy raw, not through its chat template. */
    chatTemplate?: boolean;
}

export interface OpenServices extends SearchServices {
    grader: Grader;
    /** What the policy and reward model are, for logs: "openai:http://…", "shipped tiny policy", … */
    description: string;
    /** Whether the policy is an HTTP server (then a run's concurrency can adapt to it). */
    remotePolicy: boolean;
    /** --policy FILE.gguf: its model, placement and contexts (loaded when the services open); null for the shipped policy and a server. */
    local: LlamaCppPolicyInfo | null;
    /** Calls `listener` whenever the policy server answers 429 or 503 (the request is retried). */
    onOverload(listener: () => void): void;
    close(): Promise<void>;
}

/** Whether these settings score anything with a reward model. */
export function needsRewardModel(settings: SearchSettings): boolean {
    return settings.terminalReward === "reward-model" || settings.leafValue || settings.algorithm === "beam";
}

/**
 * The policy, the reward model (when the settings need one), the Python sandbox pool and the grader for a command.
 * Without --policy-url the embedded default is used: the shipped tiny policy (and PPM) through llama.cpp.
 * A server is checked up front (its model list must include --model) so a wrong URL or model fails in a second.
 * `options.rewardModel` opens the reward model (true) or not (false) whatever the settings need (`rstar serve`).
 */
export async function openServices(flags: ServiceFlags, settings: SearchSettings, options: { rewardModel?: boolean; log?: (line: string) => void } = {}): Promise<OpenServices> {
    const opened: { dispose(): unknown }[] = [];
    try {
        const overloadListeners: (() => void)[] = [];
        const { policy, description, local, formatPrompt } = await openPolicy(flags, settings, options.log ?? ((line) => process.stderr.write(`${line}\n`)), (event) => {
            const status = event.error.details?.["status"];
            if (status === 429 || status === 503) for (const listener of overloadListeners) listener();
        });
        opened.push(policy);
        const rewardModel = (options.rewardModel ?? needsRewardModel(settings)) ? openRewardModel(flags) : undefined;
        if (rewardModel) opened.push(rewardModel);
        // The Python workers (sympy, numpy: seconds to import) start now but are awaited only by the first code step,
        // so they warm up while the first prompts are in flight. A start failure (no Python) surfaces at that step
        // as PYTHON_UNAVAILABLE / SANDBOX_START_FAILED, which stops a run.
        const sandbox = createSandbox({ workers: flags.sandboxWorkers ?? availableParallelism() });
        sandbox.catch(() => undefined);
        opened.push({ dispose: async () => (await sandbox.catch(() => undefined))?.dispose() });
        const executor: StepExecutor = { run: async (code, options) => (await sandbox).run(code, options) };
        const grader = createGrader();
        opened.push(grader);
        return {
            policy,
            executor,
            judge: grader,
            rewardModel,
            formatPrompt,
            grader,
            local,
            description: description + (rewardModel ? `, reward model ${rewardModel.name}` : ""),
            remotePolicy: policy instanceof OpenAiCompatibleBackend,
            onOverload: (listener) => overloadListeners.push(listener),
            close: () => closeAll(opened),
        };
    } catch (error) {
        await closeAll(opened);
        throw error;
    }
}

interface OpenedPolicy {
    policy: LlmBackend;
    description: string;
    local: LlamaCppPolicyInfo | null;
    formatPrompt?: PromptFormatter;
}

async function openPolicy(flags: ServiceFlags, settings: SearchSettings, log: (line: string) => void, onRetry: (event: RetryEvent) => void): Promise<OpenedPolicy> {
    const urls = (flags.policyUrl ?? []).flatMap((url) => url.split(",")).map((url) => url.trim()).filter((url) => url !== "");
    if (flags.policy !== undefined) {
        if (urls.length > 0) throw new RstarError("INVALID_ARGUMENT", "give the policy once: --policy FILE.gguf (in-process) or --policy-url URL (a server), not both");
        return openLocalPolicy(flags, settings, log);
    }
    if (urls.length === 0) {
        const shipped = locateShippedModels();
        const threads = flags.threads ?? defaultThreadCount();
        const policy = new LlamaCppBackend({ modelPath: shipped.policy, model: SHIPPED_POLICY_MODEL, threads, contextSize: 1024, ...gpuOptions(flags, "off") });
        return { policy, description: `shipped tiny policy (${shipped.policy})`, local: null };
    }
    if (flags.model === undefined) throw new RstarError("INVALID_ARGUMENT", "--model is required with --policy-url (the model name the policy server serves)");
    const policy = new OpenAiCompatibleBackend({
        baseURL: urls,
        model: flags.model,
        // llama.cpp's server and Ollama do not say which stop matched: guess it from the step's content.
        resolveStop: inferStepStop,
        onRetry,
        ...(flags.maxRequests !== undefined ? { maxInFlight: flags.maxRequests } : {}),
        ...(flags.requestTimeoutMs !== undefined ? { timeoutMs: flags.requestTimeoutMs } : {}),
    });
    try {
        const models = await policy.listModels();
        if (models.length > 0 && !models.some((model) => model.id === flags.model)) {
            throw new RstarError("BACKEND_MODEL_NOT_FOUND", `${urls.join(", ")} does not serve model "${flags.model}"; it serves: ${models.map((model) => model.id).join(", ")}`);
        }
    } catch (error) {
        await policy.dispose();
        throw withV1Hint(error, urls);
    }
    return { policy, description: `openai:${urls.join(",")} model ${flags.model}`, local: null };
}

/** --gpu and --gpu-layers as backend options; `fallback` when --gpu is not given. */
export function gpuOptions(flags: { gpu?: GpuChoice; gpuLayers?: GpuLayers }, fallback: GpuChoice): { gpu: GpuChoice; gpuLayers?: GpuLayers } {
    return { gpu: flags.gpu ?? fallback, ...(flags.gpuLayers === undefined ? {} : { gpuLayers: flags.gpuLayers }) };
}

/**
 * --policy FILE.gguf: loaded now (so a missing file, a model that does not fit or an unusable --gpu fail before any
 * problem starts), its placement and contexts logged; the bootstrap prompt goes through its chat template when the
 * GGUF has one (unless --no-chat-template).
 */
async function openLocalPolicy(flags: ServiceFlags, settings: SearchSettings, log: (line: string) => void): Promise<OpenedPolicy> {
    const modelPath = flags.policy as string;
    const policy = new LlamaCppBackend({
        modelPath,
        threads: flags.threads ?? defaultThreadCount(),
        contextSize: "fit",
        ...gpuOptions(flags, "auto"),
        ...(flags.model === undefined ? {} : { model: flags.model }),
    });
    try {
        const info = await policy.describe();
        const render = flags.chatTemplate === false ? null : await policy.chatRenderer();
        const chat = render !== null && settings.prompt === "bootstrap";
        log(`${describeLocalModel("policy", info)}; prompt ${settings.prompt}${chat ? " through the model's chat template" : info.chatTemplate === null ? "" : " (raw)"}`);
        return { policy, description: `local policy ${modelPath}`, local: info, ...(render === null ? {} : { formatPrompt: chatPromptFormatter(render) }) };
    } catch (error) {
        await policy.dispose();
        throw error;
    }
}

/** One line: the model, where it runs, the contexts chosen (printed on stderr by the commands). */
export function describeLocalModel(role: string, info: LlamaCppPolicyInfo): string {
    const where = info.gpu === false ? "CPU only" : `${info.gpu}, ${info.gpuLayers} of ${info.totalLayers} layers on the GPU`;
    return `${role} ${info.file} (${formatBytes(info.sizeBytes)}): ${where}; context ${info.contextSize} tokens, batch ${info.batchSize}, ${info.sequences} parallel sequence(s), ${info.threads} thread(s); chat template: ${info.chatTemplate === null ? "none" : "yes"}`;
}

/**
 * A base URL without `/v1` is the commonest policy-URL mistake (vLLM, SGLang, llama.cpp and Ollama all serve the
 * OpenAI API under /v1): a 404 or "model not served" from such a URL is a usage error that says to add it.
 */
function withV1Hint(error: unknown, urls: string[]): unknown {
    if (!RstarError.isInstance(error) || (error.code !== "BACKEND_HTTP" && error.code !== "BACKEND_MODEL_NOT_FOUND")) return error;
    if (error.code === "BACKEND_HTTP" && error.details["status"] !== 404) return error;
    const missing = urls.filter((url) => !/\/v1\/?$/.test(url));
    if (missing.length === 0) return error;
    const suggestion = missing.map((url) => `${url.replace(/\/+$/, "")}/v1`).join(" ");
    return new RstarError("INVALID_ARGUMENT", `${error.message}\nhint: --policy-url ${missing.join(" ")} does not end in /v1; OpenAI-compatible servers serve their API under /v1: try --policy-url ${suggestion}`, {
        cause: error,
        details: error.details,
    });
}

/**
 * The reward model, cached and batched: --ppm DIR (local, llama.cpp), --reward-url with --value-head (a PPM backbone on
 * vLLM's pooling API) or --prm (an off-the-shelf PRM on the pooling API); with none of them, the shipped PPM.
 */
function openRewardModel(flags: ServiceFlags): BatchingRewardModel {
    const urls = (flags.rewardUrl ?? []).flatMap((url) => url.split(",")).map((url) => url.trim()).filter((url) => url !== "");
    if (urls.length > 0) {
        const model = flags.rewardModel;
        if (model === undefined) throw new RstarError("INVALID_ARGUMENT", "--reward-model is required with --reward-url");
        if (flags.prm) return new BatchingRewardModel(new HttpPrm({ baseURL: urls, model, ...(flags.prmAggregate ? { aggregate: flags.prmAggregate } : {}) }));
        if (flags.valueHead === undefined) throw new RstarError("INVALID_ARGUMENT", "--reward-url needs --value-head FILE (a PPM's head, applied here) or --prm (a PRM that scores steps itself)");
        return new BatchingRewardModel(new LazyRewardModel(`ppm-http:${urls.join(",")}`, async () => new PoolingPpm({ baseURL: urls, model, head: await ValueHead.load(flags.valueHead as string) })));
    }
    const dir = flags.ppm ?? locateShippedModels().ppm;
    const threads = flags.threads ?? defaultThreadCount();
    // A PPM directory of the user's (any GGUF backbone) gets --gpu (default auto) and its training context; the shipped one the CPU.
    const options = flags.ppm === undefined ? { threads, contextSize: 1024, ...gpuOptions(flags, "off") } : { threads, ...gpuOptions(flags, "auto") };
    return new BatchingRewardModel(new LazyRewardModel(`ppm:${dir}`, () => LlamaCppPpm.fromDirectory(dir, options)));
}

/** Builds a reward model on first use, so commands that never score pay nothing for loading one. */
class LazyRewardModel implements RewardModel {
    readonly specVersion = "rstar-reward-model/1" as const;
    private model: Promise<RewardModel & { dispose?: () => unknown }> | undefined;

    constructor(
        readonly name: string,
        private readonly open: () => Promise<RewardModel & { dispose?: () => unknown }>,
    ) {}

    async score(items: Parameters<RewardModel["score"]>[0], options?: Parameters<RewardModel["score"]>[1]): Promise<number[]> {
        this.model ??= this.open();
        return (await this.model).score(items, options);
    }

    async dispose(): Promise<void> {
        if (this.model) await (await this.model).dispose?.();
    }
}

async function closeAll(resources: { dispose(): unknown }[]): Promise<void> {
    await Promise.allSettled([...resources].reverse().map(async (resource) => resource.dispose()));
}
