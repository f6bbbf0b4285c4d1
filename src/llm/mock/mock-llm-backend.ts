import { RstarError } from "../../errors/index.js";
import {
    LLM_BACKEND_SPEC_VERSION,
    type Completion,
    type GenerateRequest,
    type GenerateResult,
    type LlmBackend,
    type ModelInfo,
    type TokenUsage,
} from "../types.js";
import { abortableSleep } from "../openai-compatible/transport.js";
import { validateGenerateRequest } from "../validate-request.js";

/** A scripted completion: just text (ended by the first requested stop), or every field spelled out. */
export type MockCompletion = string | (Partial<Omit<Completion, "index">> & { text: string });

/** What one scripted call yields: completions (repeated cyclically up to `n`), a full result, or an error to throw. */
export type MockResponse = MockCompletion[] | (Partial<Omit<GenerateResult, "completions">> & { completions: MockCompletion[] }) | Error;

/** A script: responses used in call order, or a function of the request and the call number (0-based). */
export type MockScript = readonly MockResponse[] | ((request: GenerateRequest, call: number) => MockResponse | Promise<MockResponse>);

export interface MockLlmBackendOptions {
    script: MockScript;
    /** Defaults to "mock-model". */
    model?: string;
    /** Delay before answering, honouring the call's AbortSignal. Defaults to 0. @unit ms */
    latencyMs?: number;
}

/** A recorded call: the request as given (signal dropped) and when it started. */
export interface MockCall {
    request: Omit<GenerateRequest, "signal">;
    startedAt: number;
}

/**
 * A scripted, recording test double implementing the backend contract. Search tests script exactly which steps
 * the "policy" proposes and then assert on `calls`. A scripted string completion ends at the first requested stop
 * (`finishReason` "stop"); when no stop was requested, it ends with `stop: null`.
 */
export class MockLlmBackend implements LlmBackend {
    readonly specVersion = LLM_BACKEND_SPEC_VERSION;
    readonly id = "mock";
    readonly model: string;
    readonly calls: MockCall[] = [];
    private readonly script: MockScript;
    private readonly latencyMs: number;
    private disposed = false;

    constructor(options: MockLlmBackendOptions) {
        this.script = options.script;
        this.model = options.model ?? "mock-model";
        this.latencyMs = options.latencyMs ?? 0;
    }

    async generate(request: GenerateRequest): Promise<GenerateResult> {
        if (this.disposed) throw new RstarError("BACKEND_DISPOSED", "mock backend was disposed");
        validateGenerateRequest(request);
        const { signal, ...recorded } = request;
        const call = this.calls.length;
        this.calls.push({ request: { ...recorded, stop: [...recorded.stop] }, startedAt: Date.now() });
        if (signal?.aborted) throw aborted(signal);
        if (this.latencyMs > 0) await abortableSleep(this.latencyMs, signal).catch(() => Promise.reject(aborted(signal as AbortSignal)));

        let response: MockResponse | undefined;
        if (typeof this.script === "function") response = await this.script(request, call);
        else {
            response = this.script[call];
            if (response === undefined) {
                throw new RstarError("INTERNAL", `mock backend script has ${this.script.length} responses but call ${call + 1} was made`);
            }
        }
        if (signal?.aborted) throw aborted(signal);
        if (response instanceof Error) throw response;

        const scripted = Array.isArray(response) ? response : response.completions;
        if (scripted.length === 0) throw new RstarError("INTERNAL", `mock backend response for call ${call + 1} has no completions`);
        const completions = Array.from({ length: request.n }, (_, index) => toCompletion(scripted[index % scripted.length] as MockCompletion, index, request.stop));
        const usage: TokenUsage | null = Array.isArray(response) ? null : (response.usage ?? null);
        return { completions, usage, model: Array.isArray(response) ? this.model : (response.model ?? this.model) };
    }

    async listModels(): Promise<ModelInfo[]> {
        if (this.disposed) throw new RstarError("BACKEND_DISPOSED", "mock backend was disposed");
        return [{ id: this.model, ownedBy: "mock" }];
    }

    async dispose(): Promise<void> {
        this.disposed = true;
    }

    async [Symbol.asyncDispose](): Promise<void> {
        await this.dispose();
    }
}

function toCompletion(scripted: MockCompletion, index: number, stops: readonly string[]): Completion {
    if (typeof scripted === "string") return { index, text: scripted, finishReason: "stop", stop: stops[0] ?? null, stopInferred: false };
    const finishReason = scripted.finishReason ?? "stop";
    return {
        index,
        text: scripted.text,
        finishReason,
        stop: scripted.stop !== undefined ? scripted.stop : finishReason === "stop" ? (stops[0] ?? null) : null,
        stopInferred: scripted.stopInferred ?? false,
    };
}

function aborted(signal: AbortSignal): RstarError {
    return new RstarError("ABORTED", "mock generate was aborted", { cause: signal.reason });
}
