import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Socket } from "node:net";
import { readBody, send, simulateCompletion, type SimulatedPolicyOptions } from "./simulated-policy.js";

/**
 * A local HTTP server on 127.0.0.1 that answers like vLLM, SGLang, llama.cpp's server (OpenAI and native shapes) or
 * Ollama, replaying the response shapes recorded in test/fixtures/llm/<flavor>.json (see each file's `sources`).
 * Completion text comes from the simulated policy, so answers are deterministic given the seed. Faults can be
 * queued: each request (of any path) takes the next fault, if any.
 */

export type Flavor = "vllm" | "sglang" | "llama-cpp-server" | "llama-cpp-native" | "ollama";
export const FLAVORS: readonly Flavor[] = ["vllm", "sglang", "llama-cpp-server", "llama-cpp-native", "ollama"];

export type Fault =
    /** Answer with this status (and optional retry-after header / raw body) instead of serving. */
    | { kind: "status"; status: number; retryAfter?: string; body?: string }
    /** Close the connection without answering. */
    | { kind: "drop" }
    /** Wait this long before serving normally. */
    | { kind: "slow"; delayMs: number }
    /** 200 with a body that is not JSON. */
    | { kind: "malformed" }
    /** 200 with JSON of the wrong shape. */
    | { kind: "wrong-shape" };

interface FixtureFile {
    flavor: Flavor;
    behaviour: { stopField: string | null; eosStop?: number | null; n: "native" | "reject" | "ignore"; checksModel: boolean; echoesRequestModel: boolean };
    completion: Record<string, unknown>;
    models: { data: { id: string }[] } & Record<string, unknown>;
    modelNotFound: { status: number; body: unknown } | null;
    nRejected?: { status: number; body: unknown };
}

export interface RecordedRequest {
    method: string;
    path: string;
    body: Record<string, unknown> | null;
    receivedAt: number;
}

export interface FixtureLlmServer {
    flavor: Flavor;
    /** What an OpenAI client takes: `http://127.0.0.1:<port>/v1` (the bare origin for llama-cpp-native). */
    baseURL: string;
    /** The served model name (the first id of the fixture's model list). */
    model: string;
    requests: RecordedRequest[];
    /** Completion requests being served right now, and the most at once so far. */
    readonly inFlight: number;
    readonly maxInFlight: number;
    injectFaults(...faults: Fault[]): void;
    /** Fixed delay before every completion answer. @unit ms */
    setLatency(ms: number): void;
    close(): Promise<void>;
}

export interface FixtureLlmServerOptions {
    flavor: Flavor;
    policy?: SimulatedPolicyOptions;
    latencyMs?: number;
}

const fixtureDirectory = new URL("../fixtures/llm/", import.meta.url);

export function loadFixture(flavor: Flavor): FixtureFile {
    return JSON.parse(readFileSync(new URL(`${flavor}.json`, fixtureDirectory), "utf8")) as FixtureFile;
}

export async function startFixtureLlmServer(options: FixtureLlmServerOptions): Promise<FixtureLlmServer> {
    const fixture = loadFixture(options.flavor);
    const model = fixture.models.data[0]?.id ?? "model";
    const faults: Fault[] = [];
    const requests: RecordedRequest[] = [];
    const sockets = new Set<Socket>();
    let latencyMs = options.latencyMs ?? 0;
    let inFlight = 0;
    let maxInFlight = 0;
    const native = options.flavor === "llama-cpp-native";
    const completionPath = native ? "/completions" : "/v1/completions";

    const serve = async (request: IncomingMessage, response: ServerResponse) => {
        const path = new URL(request.url ?? "/", "http://127.0.0.1").pathname;
        const raw = await readBody(request);
        let body: Record<string, unknown> | null = null;
        try {
            body = raw === "" ? null : (JSON.parse(raw) as Record<string, unknown>);
        } catch {
            body = null;
        }
        requests.push({ method: request.method ?? "", path, body, receivedAt: Date.now() });

        const fault = faults.shift();
        if (fault?.kind === "drop") {
            request.socket.destroy();
            return;
        }
        if (fault?.kind === "status") {
            const headers: Record<string, string> = { "content-type": "application/json" };
            if (fault.retryAfter !== undefined) headers["retry-after"] = fault.retryAfter;
            response.writeHead(fault.status, headers);
            response.end(fault.body ?? JSON.stringify({ error: { message: `injected ${fault.status}`, type: "server_error", code: fault.status } }));
            return;
        }
        if (fault?.kind === "slow") await sleep(fault.delayMs);
        if (response.destroyed) return;
        if (fault?.kind === "malformed") {
            response.writeHead(200, { "content-type": "application/json" });
            response.end('{"id": "cmpl-1", "choices": [{"text": "unterminated');
            return;
        }
        if (fault?.kind === "wrong-shape") {
            send(response, 200, { id: "cmpl-1", object: "text_completion", outputs: ["not", "choices"] });
            return;
        }

        if (request.method === "GET" && (path === "/v1/models" || (native && path === "/models"))) {
            send(response, 200, fixture.models);
            return;
        }
        if (request.method !== "POST" || path !== completionPath || body === null) {
            send(response, 404, { error: { message: `File Not Found: ${path}`, type: "not_found_error", code: 404 } });
            return;
        }
        if (fixture.behaviour.checksModel && body["model"] !== model && fixture.modelNotFound !== null) {
            send(response, fixture.modelNotFound.status, fillModel(fixture.modelNotFound.body, String(body["model"])));
            return;
        }
        const requestedN = typeof body["n"] === "number" ? body["n"] : 1;
        if (fixture.behaviour.n === "reject" && requestedN !== 1 && fixture.nRejected !== undefined) {
            send(response, fixture.nRejected.status, fixture.nRejected.body);
            return;
        }

        inFlight += 1;
        maxInFlight = Math.max(maxInFlight, inFlight);
        try {
            if (latencyMs > 0) await sleep(latencyMs);
            if (response.destroyed) return;
            send(response, 200, render(fixture, body, model, fixture.behaviour.n === "ignore" ? 1 : requestedN, options.policy));
        } finally {
            inFlight -= 1;
        }
    };

    const server = createServer((request, response) => {
        serve(request, response).catch((error: unknown) => send(response, 500, { error: { message: String(error), type: "server_error", code: 500 } }));
    });
    server.on("connection", (socket) => {
        sockets.add(socket);
        socket.on("close", () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const origin = `http://127.0.0.1:${port}`;
    return {
        flavor: options.flavor,
        baseURL: native ? origin : `${origin}/v1`,
        model,
        requests,
        get inFlight() {
            return inFlight;
        },
        get maxInFlight() {
            return maxInFlight;
        },
        injectFaults: (...more) => void faults.push(...more),
        setLatency: (ms) => {
            latencyMs = ms;
        },
        close: () =>
            new Promise<void>((resolve) => {
                for (const socket of sockets) socket.destroy();
                server.close(() => resolve());
            }),
    };
}

/** Builds a completion body in the flavor's recorded shape around simulated choices. */
function render(fixture: FixtureFile, body: Record<string, unknown>, model: string, n: number, policy: SimulatedPolicyOptions | undefined): unknown {
    const stop = typeof body["stop"] === "string" ? [body["stop"]] : Array.isArray(body["stop"]) ? (body["stop"] as string[]) : [];
    const maxTokens = typeof body["max_tokens"] === "number" ? body["max_tokens"] : typeof body["n_predict"] === "number" ? body["n_predict"] : 16;
    const result = simulateCompletion(
        String(body["prompt"] ?? ""),
        {
            n,
            temperature: typeof body["temperature"] === "number" ? body["temperature"] : 1,
            maxTokens,
            stop,
            seed: typeof body["seed"] === "number" ? body["seed"] : undefined,
        },
        policy,
    );
    const completionTokens = result.choices.reduce((sum, choice) => sum + choice.completionTokens, 0);
    const responseModel = fixture.behaviour.echoesRequestModel ? String(body["model"]) : model;
    const { behaviour } = fixture;

    if (fixture.flavor === "llama-cpp-native") {
        const choice = result.choices[0];
        if (choice === undefined) throw new Error("no choice");
        return {
            ...fixture.completion,
            content: choice.text,
            model: responseModel,
            stop_type: choice.finishReason === "length" ? "limit" : choice.stop === null ? "eos" : "word",
            stopping_word: choice.stop ?? "",
            tokens_predicted: choice.completionTokens,
            tokens_evaluated: result.promptTokens,
        };
    }
    const template = (fixture.completion["choices"] as Record<string, unknown>[])[0] ?? {};
    const choices = result.choices.map((choice, index) => {
        const rendered: Record<string, unknown> = { ...template, index, text: choice.text, finish_reason: choice.finishReason };
        if (behaviour.stopField !== null) {
            rendered[behaviour.stopField] = choice.finishReason === "length" ? null : (choice.stop ?? behaviour.eosStop ?? null);
        }
        return rendered;
    });
    const usage = { ...(fixture.completion["usage"] as Record<string, unknown>), prompt_tokens: result.promptTokens, completion_tokens: completionTokens, total_tokens: result.promptTokens + completionTokens };
    return { ...fixture.completion, model: responseModel, choices, usage };
}

function fillModel(body: unknown, requested: string): unknown {
    return JSON.parse(JSON.stringify(body).replaceAll("{model}", requested)) as unknown;
}

function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
}
