import { z } from "zod";
import type { FinishReason, GenerateResult, TokenUsage } from "../llm/index.js";
import { chatMessagesSchema, chatPrompt } from "./chat-template.js";
import { solverChat } from "./solver-routes.js";
import { backendError, errorBody, invalid, nextId, type RouteResult, type ServeContext } from "./routes.js";

/** Used when a request gives no max_tokens (vLLM's default of 16 is too few for a step). */
export const DEFAULT_MAX_TOKENS = 256;

const stopSchema = z.union([z.string(), z.array(z.string())]).nullish();

/** Sampling fields shared by `/v1/completions` and `/v1/chat/completions` (unknown fields are ignored). */
const samplingFields = {
    model: z.string(),
    n: z.number().int().min(1).max(256).optional(),
    temperature: z.number().min(0).max(100).optional(),
    top_p: z.number().gt(0).max(1).optional(),
    max_tokens: z.number().int().min(1).nullish(),
    stop: stopSchema,
    seed: z.number().int().nullish(),
    stream: z.boolean().nullish(),
    stream_options: z.looseObject({ include_usage: z.boolean().nullish() }).nullish(),
};

/** `POST /v1/completions`: the OpenAI text-completion fields the server honours. */
export const completionRequestSchema = z.looseObject({
    ...samplingFields,
    prompt: z.union([z.string(), z.array(z.string()).length(1)]),
});

/** `POST /v1/chat/completions`: OpenAI's chat fields the server honours (`max_completion_tokens` is the newer `max_tokens`). */
export const chatRequestSchema = z.looseObject({
    ...samplingFields,
    messages: chatMessagesSchema,
    max_completion_tokens: z.number().int().min(1).nullish(),
});

type Kind = "completion" | "chat";

/** `POST /v1/completions`. */
export function completions(context: ServeContext, raw: unknown, signal: AbortSignal): Promise<RouteResult> {
    const parsed = completionRequestSchema.safeParse(raw);
    if (!parsed.success) return Promise.resolve(invalid(parsed.error));
    const request = parsed.data;
    const prompt = typeof request.prompt === "string" ? request.prompt : (request.prompt[0] as string);
    return generate(context, "completion", { ...request, prompt, maxTokens: request.max_tokens ?? context.defaultMaxTokens }, signal);
}

/** `POST /v1/chat/completions`: the messages become the policy's SFT prompt (see `chatPrompt`). */
export function chatCompletions(context: ServeContext, raw: unknown, signal: AbortSignal): Promise<RouteResult> {
    const parsed = chatRequestSchema.safeParse(raw);
    if (!parsed.success) return Promise.resolve(invalid(parsed.error));
    const request = parsed.data;
    if (context.solvers?.models[request.model] !== undefined) return solverChat(context.solvers, raw, signal);
    if (request.model !== context.policyModel) return Promise.resolve(unknownModel(request.model));
    const prompt = chatPrompt(request.messages);
    if (!prompt.ok) return Promise.resolve(errorBody(400, prompt.message, "messages"));
    // a chat reply is a whole solution: by default it may fill the context (the backend cuts it there, as "length")
    const maxTokens = request.max_completion_tokens ?? request.max_tokens ?? (context.maxModelLen > 0 ? context.maxModelLen : context.defaultMaxTokens);
    return generate(context, "chat", { ...request, prompt: prompt.prompt, maxTokens }, signal);
}

interface Parsed {
    model: string;
    prompt: string;
    maxTokens: number;
    n?: number | undefined;
    temperature?: number | undefined;
    top_p?: number | undefined;
    stop?: string | string[] | null | undefined;
    seed?: number | null | undefined;
    stream?: boolean | null | undefined;
    stream_options?: { include_usage?: boolean | null | undefined } | null | undefined;
}

async function generate(context: ServeContext, kind: Kind, request: Parsed, signal: AbortSignal): Promise<RouteResult> {
    if (request.model !== context.policyModel) return unknownModel(request.model);
    const stop = request.stop === undefined || request.stop === null ? [] : typeof request.stop === "string" ? [request.stop] : request.stop;
    const n = request.n ?? 1;
    const settings = {
        prompt: request.prompt,
        n,
        temperature: request.temperature ?? 1,
        topP: request.top_p ?? 1,
        maxTokens: request.maxTokens,
        stop,
        ...(request.seed === undefined || request.seed === null ? {} : { seed: request.seed }),
        signal,
    };
    const id = nextId(kind === "chat" ? "chatcmpl" : "cmpl");
    const created = Math.floor(Date.now() / 1000);
    const model = context.policyModel;
    if (request.stream !== true) {
        let result: GenerateResult;
        try {
            result = await context.policy.generate(settings);
        } catch (error) {
            return backendError(error);
        }
        const choices = result.completions.map((completion) =>
            kind === "chat"
                ? {
                      index: completion.index,
                      message: { role: "assistant", content: completion.text },
                      logprobs: null,
                      finish_reason: completion.finishReason satisfies FinishReason,
                      stop_reason: completion.stop,
                  }
                : { index: completion.index, text: completion.text, logprobs: null, finish_reason: completion.finishReason satisfies FinishReason, stop_reason: completion.stop },
        );
        return { status: 200, body: { id, object: kind === "chat" ? "chat.completion" : "text_completion", created, model, choices, usage: wireUsage(result.usage) } };
    }

    const includeUsage = request.stream_options?.include_usage === true;
    const object = kind === "chat" ? "chat.completion.chunk" : "text_completion";
    return {
        status: 200,
        stream: async (send) => {
            const chunk = (choice: Record<string, unknown>) => send({ id, object, created, model, choices: [choice], ...(includeUsage ? { usage: null } : {}) });
            const delta = (index: number, text: string) =>
                chunk(kind === "chat" ? { index, delta: { content: text }, logprobs: null, finish_reason: null } : { index, text, logprobs: null, finish_reason: null });
            if (kind === "chat") for (let index = 0; index < n; index += 1) chunk({ index, delta: { role: "assistant", content: "" }, logprobs: null, finish_reason: null });
            const streamed = Array.from({ length: n }, () => "");
            let result: GenerateResult;
            try {
                result = await context.policy.generate({
                    ...settings,
                    onText: (index, text) => {
                        if (text === "" || index < 0 || index >= n) return;
                        streamed[index] += text;
                        delta(index, text);
                    },
                });
            } catch (error) {
                if (signal.aborted) return;
                send(backendError(error).body);
                return;
            }
            for (const completion of result.completions) {
                // a backend that cannot stream (HTTP, the teacher) or stopped short of its last piece: send the rest now
                const sent = streamed[completion.index] ?? "";
                const rest = completion.text.startsWith(sent) ? completion.text.slice(sent.length) : "";
                if (rest !== "") delta(completion.index, rest);
                chunk(
                    kind === "chat"
                        ? { index: completion.index, delta: {}, logprobs: null, finish_reason: completion.finishReason, stop_reason: completion.stop }
                        : { index: completion.index, text: "", logprobs: null, finish_reason: completion.finishReason, stop_reason: completion.stop },
                );
            }
            if (includeUsage) send({ id, object, created, model, choices: [], usage: wireUsage(result.usage) });
        },
    };
}

function unknownModel(model: string): RouteResult {
    return errorBody(404, `The model \`${model}\` does not exist.`, "model");
}

function wireUsage(usage: TokenUsage | null) {
    return usage === null ? null : { prompt_tokens: usage.promptTokens, completion_tokens: usage.completionTokens, total_tokens: usage.totalTokens };
}
