import { availableParallelism } from "node:os";
import { RstarError } from "../errors/index.js";
import { createGrader, type Grader } from "../grading/index.js";
import { OpenAiCompatibleBackend, type LlmBackend } from "../llm/index.js";
import { createSandbox, type Sandbox } from "../sandbox/index.js";
import type { SearchServices } from "../search/index.js";
import { inferStepStop } from "../steps/index.js";

export interface ServiceFlags {
    policyUrl?: string[];
    model?: string;
    maxRequests?: number;
    requestTimeoutMs?: number;
    sandboxWorkers?: number;
}

export interface OpenServices extends SearchServices {
    sandbox: Sandbox;
    grader: Grader;
    close(): Promise<void>;
}

/**
 * The policy server, the Python sandbox pool and the grader for a command. The policy is checked up front
 * (its model list must include --model) so a wrong URL or model fails in a second, not mid-run.
 */
export async function openServices(flags: ServiceFlags): Promise<OpenServices> {
    const urls = (flags.policyUrl ?? []).flatMap((url) => url.split(",")).map((url) => url.trim()).filter((url) => url !== "");
    if (urls.length === 0) throw new RstarError("INVALID_ARGUMENT", "--policy-url is required (e.g. --policy-url http://127.0.0.1:8000/v1)");
    if (flags.model === undefined) throw new RstarError("INVALID_ARGUMENT", "--model is required (the model name the policy server serves)");
    const policy: LlmBackend = new OpenAiCompatibleBackend({
        baseURL: urls,
        model: flags.model,
        // llama.cpp's server and Ollama do not say which stop matched: guess it from the step's content.
        resolveStop: inferStepStop,
        ...(flags.maxRequests !== undefined ? { maxInFlight: flags.maxRequests } : {}),
        ...(flags.requestTimeoutMs !== undefined ? { timeoutMs: flags.requestTimeoutMs } : {}),
    });
    const opened: { dispose(): unknown }[] = [policy];
    try {
        const models = await policy.listModels();
        if (models.length > 0 && !models.some((model) => model.id === flags.model)) {
            throw new RstarError("BACKEND_MODEL_NOT_FOUND", `${urls.join(", ")} does not serve model "${flags.model}"; it serves: ${models.map((model) => model.id).join(", ")}`);
        }
        const sandbox = await createSandbox({ workers: flags.sandboxWorkers ?? availableParallelism() });
        opened.push(sandbox);
        const grader = createGrader();
        opened.push(grader);
        return {
            policy,
            executor: sandbox,
            judge: grader,
            sandbox,
            grader,
            close: () => closeAll(opened),
        };
    } catch (error) {
        await closeAll(opened);
        throw error;
    }
}

async function closeAll(resources: { dispose(): unknown }[]): Promise<void> {
    await Promise.allSettled([...resources].reverse().map(async (resource) => resource.dispose()));
}
