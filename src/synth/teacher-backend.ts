import { RstarError } from "../errors/index.js";
import { LLM_BACKEND_SPEC_VERSION, abortableSleep, validateGenerateRequest, type Completion, type GenerateRequest, type GenerateResult, type LlmBackend, type ModelInfo } from "../llm/index.js";
import { proposeStep, resolveErrorRates, type TeacherErrorRates } from "./teacher-policy.js";
import { countTokens, firstTokens } from "./tokens.js";

export const DEFAULT_TEACHER_MODEL = "rstar-synth-teacher";

export interface TeacherOptions {
    /** Per-step mistake probabilities, merged over DEFAULT_TEACHER_ERROR_RATES. */
    errorRates?: Partial<TeacherErrorRates>;
    /** Model name it answers to. Defaults to "rstar-synth-teacher". */
    model?: string;
    /** Delay before each answer, honouring the abort signal (to exercise timeouts and aborts). Defaults to 0. @unit ms */
    latencyMs?: number;
}

/** One completion the way a server cuts it: at the earliest requested stop string (excluded), or at maxTokens. */
export interface TeacherCompletion {
    text: string;
    finishReason: "stop" | "length";
    stop: string | null;
    completionTokens: number;
}

/**
 * Samples `n` completions for a prompt from the teacher policy. Shared by the in-process backend and the HTTP server,
 * so both answer identically. Without a matching stop string, a step ends at end-of-sequence (stop null).
 */
export function teacherCompletions(
    request: { prompt: string; n: number; temperature: number; maxTokens: number; stop: readonly string[]; seed?: number | undefined },
    rates: TeacherErrorRates,
): { completions: TeacherCompletion[]; promptTokens: number } {
    const completions = Array.from({ length: request.n }, (_, index): TeacherCompletion => {
        const raw = proposeStep(request.prompt, { seed: request.seed, index, temperature: request.temperature }, rates).text;
        let cut = raw.length;
        let stop: string | null = null;
        for (const candidate of request.stop) {
            if (candidate === "") continue;
            const at = raw.indexOf(candidate);
            if (at >= 0 && (at < cut || (at === cut && stop !== null && candidate.length > stop.length))) {
                cut = at;
                stop = candidate;
            }
        }
        const generated = stop === null ? raw : raw.slice(0, cut + stop.length);
        const tokens = countTokens(generated) + (stop === null ? 1 : 0); // end-of-sequence counts as a token
        if (tokens > request.maxTokens) return { text: firstTokens(raw, request.maxTokens), finishReason: "length", stop: null, completionTokens: request.maxTokens };
        return { text: raw.slice(0, cut), finishReason: "stop", stop, completionTokens: tokens };
    });
    return { completions, promptTokens: countTokens(request.prompt) };
}

/**
 * The noisy teacher as an in-process policy backend (the role of the paper's large bootstrap model, offline).
 * Deterministic given (seed, prompt, sample index); temperature 0 is its greedy behaviour. `topP` is accepted and
 * ignored.
 */
export class TeacherBackend implements LlmBackend {
    readonly specVersion = LLM_BACKEND_SPEC_VERSION;
    readonly id: string;
    readonly model: string;
    readonly errorRates: Readonly<TeacherErrorRates>;
    private readonly latencyMs: number;
    private disposed = false;

    constructor(options: TeacherOptions = {}) {
        try {
            this.errorRates = resolveErrorRates(options.errorRates);
        } catch (error) {
            throw new RstarError("INVALID_ARGUMENT", (error as Error).message);
        }
        this.model = options.model ?? DEFAULT_TEACHER_MODEL;
        this.id = `teacher:${this.model}`;
        this.latencyMs = options.latencyMs ?? 0;
    }

    async generate(request: GenerateRequest): Promise<GenerateResult> {
        if (this.disposed) throw new RstarError("BACKEND_DISPOSED", "the teacher backend was disposed");
        validateGenerateRequest(request);
        if (request.signal?.aborted) throw aborted(request.signal);
        if (this.latencyMs > 0) await abortableSleep(this.latencyMs, request.signal).catch(() => Promise.reject(aborted(request.signal as AbortSignal)));
        const { completions, promptTokens } = teacherCompletions(request, this.errorRates);
        const completionTokens = completions.reduce((sum, completion) => sum + completion.completionTokens, 0);
        return {
            completions: completions.map((completion, index): Completion => ({ index, text: completion.text, finishReason: completion.finishReason, stop: completion.stop, stopInferred: false })),
            usage: { promptTokens, completionTokens, totalTokens: promptTokens + completionTokens },
            model: this.model,
        };
    }

    async listModels(): Promise<ModelInfo[]> {
        if (this.disposed) throw new RstarError("BACKEND_DISPOSED", "the teacher backend was disposed");
        return [{ id: this.model, ownedBy: "rstar-synth" }];
    }

    async dispose(): Promise<void> {
        this.disposed = true;
    }

    async [Symbol.asyncDispose](): Promise<void> {
        await this.dispose();
    }
}

function aborted(signal: AbortSignal): RstarError {
    return new RstarError("ABORTED", "teacher generate was aborted", { cause: signal.reason });
}
