import OpenAI, { APIUserAbortError } from "openai";
import { RstarError } from "../../src/errors/index.js";
import {
    LLM_BACKEND_SPEC_VERSION,
    validateGenerateRequest,
    type Completion,
    type FinishReason,
    type GenerateRequest,
    type GenerateResult,
    type LlmBackend,
    type ModelInfo,
} from "../../src/llm/index.js";

/**
 * A test-only LlmBackend that speaks to a server through the official `openai` client, over one of the paths the
 * project's own OpenAiCompatibleBackend does not use: streamed `/v1/completions`, or `/v1/chat/completions`
 * (streamed or not). Chat turns an SFT prompt back into its question and partial solution, so the backend
 * conformance suite can run unchanged against the chat template. Every streamed event is checked as it arrives.
 */
export class OpenAiClientBackend implements LlmBackend {
    readonly specVersion = LLM_BACKEND_SPEC_VERSION;
    readonly id: string;
    private readonly client: OpenAI;
    private disposed = false;

    constructor(
        baseURL: string,
        readonly model: string,
        private readonly path: "completions-stream" | "chat" | "chat-stream",
    ) {
        this.id = `openai-client:${path}:${baseURL}`;
        this.client = new OpenAI({ baseURL, apiKey: "unused", maxRetries: 0 });
    }

    async generate(request: GenerateRequest): Promise<GenerateResult> {
        if (this.disposed) throw new RstarError("BACKEND_DISPOSED", "disposed");
        validateGenerateRequest(request);
        if (request.signal?.aborted) throw new RstarError("ABORTED", "aborted before it started");
        const sampling = {
            model: this.model,
            n: request.n,
            temperature: request.temperature,
            top_p: request.topP,
            max_tokens: request.maxTokens,
            stop: [...request.stop],
            ...(request.seed === undefined ? {} : { seed: request.seed }),
        };
        const options = request.signal === undefined ? {} : { signal: request.signal };
        const texts = Array.from({ length: request.n }, () => "");
        const ends: ({ finish: FinishReason; stop: string | null } | undefined)[] = Array.from({ length: request.n }, () => undefined);
        let usage: GenerateResult["usage"] = null;
        const end = (index: number, choice: { finish_reason: string | null }) => {
            if (choice.finish_reason === null) return;
            if (ends[index] !== undefined) throw new Error(`choice ${index} finished twice`);
            ends[index] = { finish: choice.finish_reason as FinishReason, stop: (choice as unknown as { stop_reason: string | null }).stop_reason ?? null };
        };
        const toUsage = (wire: { prompt_tokens: number; completion_tokens: number; total_tokens: number } | null | undefined) =>
            wire == null ? null : { promptTokens: wire.prompt_tokens, completionTokens: wire.completion_tokens, totalTokens: wire.total_tokens };
        try {
            if (this.path === "completions-stream") {
                const stream = await this.client.completions.create({ ...sampling, prompt: request.prompt, stream: true, stream_options: { include_usage: true } }, options);
                for await (const chunk of stream) {
                    if (chunk.choices.length === 0) usage = toUsage(chunk.usage);
                    for (const choice of chunk.choices) {
                        if (ends[choice.index] !== undefined) throw new Error(`text after the end of choice ${choice.index}`);
                        texts[choice.index] += choice.text;
                        end(choice.index, choice);
                    }
                }
            } else {
                const messages = sftMessages(request.prompt);
                if (this.path === "chat") {
                    const reply = await this.client.chat.completions.create({ ...sampling, messages }, options);
                    for (const choice of reply.choices) {
                        texts[choice.index] = choice.message.content ?? "";
                        end(choice.index, choice);
                    }
                    usage = toUsage(reply.usage);
                } else {
                    const stream = await this.client.chat.completions.create({ ...sampling, messages, stream: true, stream_options: { include_usage: true } }, options);
                    for await (const chunk of stream) {
                        if (chunk.choices.length === 0) usage = toUsage(chunk.usage);
                        for (const choice of chunk.choices) {
                            if (ends[choice.index] !== undefined) throw new Error(`text after the end of choice ${choice.index}`);
                            texts[choice.index] += choice.delta.content ?? "";
                            end(choice.index, choice);
                        }
                    }
                }
            }
        } catch (error) {
            if (error instanceof APIUserAbortError || request.signal?.aborted) throw new RstarError("ABORTED", "aborted", { cause: error });
            throw error;
        }
        const completions = texts.map((text, index): Completion => {
            const ending = ends[index];
            if (ending === undefined) throw new Error(`choice ${index} never finished`);
            return { index, text, finishReason: ending.finish, stop: ending.stop, stopInferred: false };
        });
        return { completions, usage, model: this.model };
    }

    async listModels(): Promise<ModelInfo[]> {
        const page = await this.client.models.list();
        return page.data.map((model) => ({ id: model.id }));
    }

    async dispose(): Promise<void> {
        this.disposed = true;
    }

    async [Symbol.asyncDispose](): Promise<void> {
        await this.dispose();
    }
}

const SFT = /^<\|user\|>:\n([\s\S]*)\n<\|assistant\|>: Let's think step by step and solve the problem with code\.([\s\S]*)$/;

/** The chat messages whose template (the SFT prompt) is `prompt`: the question, and the partial solution if any. */
export function sftMessages(prompt: string): OpenAI.Chat.ChatCompletionMessageParam[] {
    const match = SFT.exec(prompt);
    if (match === null) throw new Error("not an SFT prompt: the chat path can only send a question and a partial solution");
    const partial = match[2] ?? "";
    return [{ role: "user", content: match[1] ?? "" }, ...(partial === "" ? [] : [{ role: "assistant" as const, content: partial }])];
}
