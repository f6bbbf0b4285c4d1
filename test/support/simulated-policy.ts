import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A simulated rStar policy model, for search tests and benchmarks without a real LLM.
 *
 * Questions are arithmetic: "Compute 3 + 4 * 5." (or a bare expression) over integers with `+`, `-`, `*` and
 * parentheses. The policy solves one binary operation per code step, then prints, then answers:
 *
 *   <code>\n# Step 1: compute 4 * 5\nx1 = 4 * 5\n<end_of_step>      (the first step opens <code>)
 *   \n# Step 2: compute 3 + x1\nx2 = 3 + x1\n<end_of_step>
 *   \n# Now print the final answer\nprint(x2)\n<end_of_code>      (search then appends \n<output>23<end_of_output>)
 *   \n<answer>The answer is \boxed{23}<end_of_answer>
 *
 * Each sampled step is wrong with probability `1 - stepCorrectProbability` (an operand or operator is off) and raises
 * in Python with probability `codeErrorProbability` (it reads a variable not yet defined). Sampling is deterministic
 * given (seed, sample index, prompt); temperature 0 is greedy: always correct, independent of the seed.
 */

export const STEP_STOPS = ["<end_of_step>", "<end_of_code>", "<end_of_answer>"] as const;

const userTag = "<|user|>:\n";
const assistantTag = "\n<|assistant|>: Let's think step by step and solve the problem with code.";

export function buildRstarPrompt(question: string, partialSolution = ""): string {
    return `${userTag}${question}${assistantTag}${partialSolution}`;
}

export function parseRstarPrompt(prompt: string): { question: string; partial: string } | null {
    const start = prompt.indexOf(userTag);
    const end = prompt.indexOf(assistantTag);
    if (start < 0 || end < start) return null;
    return { question: prompt.slice(start + userTag.length, end), partial: prompt.slice(end + assistantTag.length) };
}

export interface SimulatedPolicyOptions {
    /** Probability that a sampled code step computes the right thing. Defaults to 1. */
    stepCorrectProbability?: number;
    /** Probability that a sampled code step raises when run. Defaults to 0. */
    codeErrorProbability?: number;
}

export interface SimulatedSamplingSettings {
    n: number;
    temperature: number;
    maxTokens: number;
    stop: readonly string[];
    seed?: number | undefined;
}

/** One simulated completion, cut the way a server would cut it. `text` excludes the stop string. */
export interface SimulatedChoice {
    text: string;
    finishReason: "stop" | "length";
    /** The stop string that ended it; null at the token limit or at end-of-sequence. */
    stop: string | null;
    completionTokens: number;
}

export interface SimulatedCompletion {
    choices: SimulatedChoice[];
    promptTokens: number;
}

// ---------------------------------------------------------------------------------------------------------------
// expression language

type Expr = { kind: "num"; value: number } | { kind: "op"; op: "+" | "-" | "*"; left: Expr; right: Expr };

/** Parses "Compute 3 + 4 * 5." / "What is (2 + 3) * 4?" / "3 + 4"; null when it is not the language. */
export function parseQuestion(question: string): Expr | null {
    const body = question
        .trim()
        .replace(/^(compute|calculate|evaluate|what is)\s*/i, "")
        .replace(/[.?!]\s*$/, "");
    const tokens = body.match(/\d+|[-+*()]|\S/g) ?? [];
    let position = 0;
    const peek = () => tokens[position];
    const parseAtom = (): Expr | null => {
        const token = tokens[position++];
        if (token === undefined) return null;
        if (/^\d+$/.test(token)) return { kind: "num", value: Number(token) };
        if (token === "(") {
            const inner = parseSum();
            if (inner === null || tokens[position++] !== ")") return null;
            return inner;
        }
        return null;
    };
    const parseProduct = (): Expr | null => {
        let left = parseAtom();
        while (left !== null && peek() === "*") {
            position += 1;
            const right = parseAtom();
            left = right === null ? null : { kind: "op", op: "*", left, right };
        }
        return left;
    };
    const parseSum = (): Expr | null => {
        let left = parseProduct();
        while (left !== null && (peek() === "+" || peek() === "-")) {
            const op = tokens[position++] as "+" | "-";
            const right = parseProduct();
            left = right === null ? null : { kind: "op", op, left, right };
        }
        return left;
    };
    const expr = parseSum();
    return expr !== null && position === tokens.length ? expr : null;
}

export function evaluate(expr: Expr): number {
    if (expr.kind === "num") return expr.value;
    const left = evaluate(expr.left);
    const right = evaluate(expr.right);
    return expr.op === "+" ? left + right : expr.op === "-" ? left - right : left * right;
}

/** One operation per step, in evaluation order; operands are literals or earlier steps' variables. */
interface Operation {
    op: "+" | "-" | "*";
    left: string;
    right: string;
}

function plan(expr: Expr): { operations: Operation[]; result: string } {
    const operations: Operation[] = [];
    const walk = (node: Expr): string => {
        if (node.kind === "num") return String(node.value);
        const left = walk(node.left);
        const right = walk(node.right);
        operations.push({ op: node.op, left, right });
        return `x${operations.length}`;
    };
    const result = walk(expr);
    return { operations, result };
}

/** The true answer of a question in the language, or null. */
export function solveQuestion(question: string): number | null {
    const expr = parseQuestion(question);
    return expr === null ? null : evaluate(expr);
}

// ---------------------------------------------------------------------------------------------------------------
// sampling

/** FNV-1a over the string, then mulberry32: small, fast, and the same on every platform. */
function rngFor(key: string): () => number {
    let hash = 0x811c9dc5;
    for (let i = 0; i < key.length; i += 1) {
        hash ^= key.charCodeAt(i);
        hash = Math.imul(hash, 0x01000193) >>> 0;
    }
    let state = hash;
    return () => {
        state = (state + 0x6d2b79f5) >>> 0;
        let t = state;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}

const verbs = { "+": "add", "-": "subtract", "*": "multiply" } as const;

/**
 * The raw next step the policy generates (stop string included, as a model would emit it), or "" when the solution
 * is already complete (end-of-sequence).
 */
export function nextStep(prompt: string, sample: { seed: number | undefined; index: number; temperature: number }, options: SimulatedPolicyOptions = {}): string {
    const parsed = parseRstarPrompt(prompt);
    const greedy = sample.temperature === 0;
    const random = rngFor(`${greedy ? "greedy" : (sample.seed ?? Math.random())}|${greedy ? 0 : sample.index}|${prompt}`);
    const correct = options.stepCorrectProbability ?? 1;
    const codeError = options.codeErrorProbability ?? 0;
    if (parsed === null) return "<code>\n# Step 1: the prompt is not in the rStar format\nprint(0)\n<end_of_code>";
    const { question, partial } = parsed;
    if (partial.includes("<end_of_answer>")) return "";

    const expr = parseQuestion(question);
    if (partial.includes("<end_of_code>")) {
        const outputs = [...partial.matchAll(/<output>([\s\S]*?)<end_of_output>/g)];
        const output = outputs.at(-1)?.[1]?.trim();
        const answer = output !== undefined && output !== "" ? output : (interpret(partial) ?? (expr === null ? "0" : String(evaluate(expr))));
        return `\n<answer>The answer is \\boxed{${answer}}<end_of_answer>`;
    }
    if (expr === null) return "<code>\n# Step 1: I cannot parse this question\nprint(0)\n<end_of_code>";

    const { operations, result } = plan(expr);
    const opening = partial.includes("<code>") ? "" : "<code>";
    const done = (partial.match(/<end_of_step>/g) ?? []).length;
    if (operations.length === 0 && done === 0) {
        return `${opening}\n# Step 1: the value is given\nx1 = ${result}\n<end_of_step>`;
    }
    const steps = Math.max(operations.length, 1);
    if (done >= steps) {
        const last = operations.length === 0 ? "x1" : `x${operations.length}`;
        return `${opening}\n# Now print the final answer\nprint(${last})\n<end_of_code>`;
    }
    const operation = operations[done] as Operation;
    const k = done + 1;
    let { left, right, op } = operation;
    if (!greedy && random() >= correct) {
        if (/^\d+$/.test(right)) right = String(Number(right) + 1 + Math.floor(random() * 3));
        else op = op === "+" ? "-" : "+";
    }
    if (!greedy && random() < codeError) left = `x${k + 1}`;
    const phrasing = greedy ? 0 : Math.floor(random() * 2);
    const comment = phrasing === 0 ? `compute ${left} ${op} ${right}` : `${verbs[op]} ${left} and ${right}`;
    return `${opening}\n# Step ${k}: ${comment}\nx${k} = ${left} ${op} ${right}\n<end_of_step>`;
}

/** Runs the `name = expr` lines of a partial solution; the value of the last assignment, or null on any error. */
function interpret(partial: string): string | null {
    const variables = new Map<string, number>();
    let last: number | null = null;
    for (const line of partial.split("\n")) {
        const match = /^\s*(x\d+)\s*=\s*(.+?)\s*$/.exec(line);
        if (match === null) continue;
        let unknown = false;
        const substituted = (match[2] ?? "").replace(/x\d+/g, (name) => {
            const value = variables.get(name);
            if (value === undefined) unknown = true;
            return value === undefined ? "0" : value < 0 ? `(0 - ${-value})` : String(value);
        });
        if (unknown) return null;
        const expr = parseQuestion(substituted);
        if (expr === null) return null;
        last = evaluate(expr);
        variables.set(match[1] as string, last);
    }
    return last === null ? null : String(last);
}

/** A crude tokenizer shared with the fixture servers: words, numbers, whitespace runs and single symbols. */
export function countTokens(text: string): number {
    return (text.match(/\s+|[A-Za-z_]+|\d+|[^\sA-Za-z_\d]/g) ?? []).length;
}

function firstTokens(text: string, limit: number): string {
    return (text.match(/\s+|[A-Za-z_]+|\d+|[^\sA-Za-z_\d]/g) ?? []).slice(0, limit).join("");
}

/**
 * In-process mode: what an OpenAI-compatible server running the simulated policy would return — `n` samples,
 * each cut at the earliest requested stop string (excluded from the text) or at `maxTokens`.
 */
export function simulateCompletion(prompt: string, settings: SimulatedSamplingSettings, options: SimulatedPolicyOptions = {}): SimulatedCompletion {
    const choices = Array.from({ length: settings.n }, (_, index): SimulatedChoice => {
        const raw = nextStep(prompt, { seed: settings.seed, index, temperature: settings.temperature }, options);
        let cut = raw.length;
        let stop: string | null = null;
        for (const candidate of settings.stop) {
            if (candidate === "") continue;
            const at = raw.indexOf(candidate);
            if (at >= 0 && (at < cut || (at === cut && stop !== null && candidate.length > stop.length))) {
                cut = at;
                stop = candidate;
            }
        }
        const generated = stop === null ? raw : raw.slice(0, cut + stop.length);
        if (countTokens(generated) > settings.maxTokens) {
            const text = firstTokens(raw, settings.maxTokens);
            return { text, finishReason: "length", stop: null, completionTokens: settings.maxTokens };
        }
        return { text: raw.slice(0, cut), finishReason: "stop", stop, completionTokens: countTokens(generated) + (stop === null ? 1 : 0) };
    });
    return { choices, promptTokens: countTokens(prompt) };
}

// ---------------------------------------------------------------------------------------------------------------
// HTTP mode

export interface SimulatedPolicyServerOptions extends SimulatedPolicyOptions {
    /** Served model name; requests for another name get vLLM's 404. Defaults to "simulated-policy". */
    model?: string;
    /** Fixed service time added to every completion request. Defaults to 0. @unit ms */
    serviceTimeMs?: number;
    /** Added per token of a request's longest completion (its n samples decode as one batch). Defaults to 0. @unit ms */
    perTokenMs?: number;
    /**
     * Sample from the prompt alone, ignoring a request's seed: two clients sending the same prompt get the same
     * completions whatever seeds they send (the official solver sends none), so their trees can be compared.
     */
    ignoreSeed?: boolean;
    /** Requests served at once; more wait in a queue, as in a server with a fixed batch size. Defaults to unlimited. */
    slots?: number;
    /** Questions whose every completion request gets HTTP 500 (a problem that fails on every attempt). */
    failQuestions?: readonly string[];
}

export interface SimulatedPolicyServer {
    /** `http://127.0.0.1:<port>/v1`, as OpenAI clients take it. */
    baseURL: string;
    model: string;
    /** Completion requests answered so far, and the most that were in flight at once. */
    stats: { requests: number; inFlight: number; maxInFlight: number };
    close(): Promise<void>;
}

/**
 * HTTP mode: an OpenAI-compatible server on 127.0.0.1 (ephemeral port) serving POST /v1/completions and
 * GET /v1/models in vLLM's shapes: honours `n`, `stop`, `seed`, `max_tokens`, `temperature`; returns text without the
 * stop string and the matched stop in `stop_reason`.
 */
export async function startSimulatedPolicyServer(options: SimulatedPolicyServerOptions = {}): Promise<SimulatedPolicyServer> {
    const model = options.model ?? "simulated-policy";
    const stats = { requests: 0, inFlight: 0, maxInFlight: 0 };
    let sequence = 0;
    let busy = 0;
    const waiting: (() => void)[] = [];
    const server = createServer((request, response) => {
        void handle(request, response).catch((error: unknown) => send(response, 500, { error: { message: String(error), type: "InternalServerError", code: 500 } }));
    });
    const handle = async (request: IncomingMessage, response: ServerResponse) => {
        const url = new URL(request.url ?? "/", "http://127.0.0.1");
        if (request.method === "GET" && url.pathname === "/v1/models") {
            send(response, 200, { object: "list", data: [{ id: model, object: "model", created: 0, owned_by: "simulated", root: model, parent: null }] });
            return;
        }
        if (request.method !== "POST" || url.pathname !== "/v1/completions") {
            send(response, 404, { detail: "Not Found" });
            return;
        }
        const body = await readBody(request);
        let payload: Record<string, unknown>;
        try {
            payload = JSON.parse(body) as Record<string, unknown>;
        } catch {
            send(response, 400, { error: { message: "request body is not JSON", type: "BadRequestError", code: 400 } });
            return;
        }
        if (payload["model"] !== model) {
            send(response, 404, { error: { message: `The model \`${String(payload["model"])}\` does not exist.`, type: "NotFoundError", param: "model", code: 404 } });
            return;
        }
        const question = parseRstarPrompt(String(payload["prompt"] ?? ""))?.question;
        if (question !== undefined && options.failQuestions?.includes(question)) {
            send(response, 500, { error: { message: "simulated server error for this question", type: "InternalServerError", code: 500 } });
            return;
        }
        stats.requests += 1;
        stats.inFlight += 1;
        stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
        if (options.slots !== undefined && busy >= options.slots) await new Promise<void>((resolve) => waiting.push(resolve));
        busy += 1;
        try {
            const stop = typeof payload["stop"] === "string" ? [payload["stop"]] : Array.isArray(payload["stop"]) ? (payload["stop"] as string[]) : [];
            const result = simulateCompletion(
                String(payload["prompt"] ?? ""),
                {
                    n: typeof payload["n"] === "number" ? payload["n"] : 1,
                    temperature: typeof payload["temperature"] === "number" ? payload["temperature"] : 1,
                    maxTokens: typeof payload["max_tokens"] === "number" ? payload["max_tokens"] : 16,
                    stop,
                    seed: options.ignoreSeed === true ? 0 : typeof payload["seed"] === "number" ? payload["seed"] : undefined,
                },
                options,
            );
            const longest = Math.max(0, ...result.choices.map((choice) => choice.completionTokens));
            const delay = (options.serviceTimeMs ?? 0) + (options.perTokenMs ?? 0) * longest;
            if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
            const completionTokens = result.choices.reduce((sum, choice) => sum + choice.completionTokens, 0);
            sequence += 1;
            send(response, 200, {
                id: `cmpl-sim-${sequence}`,
                object: "text_completion",
                created: Math.floor(Date.now() / 1000),
                model,
                choices: result.choices.map((choice, index) => ({
                    index,
                    text: choice.text,
                    logprobs: null,
                    finish_reason: choice.finishReason,
                    stop_reason: choice.stop,
                })),
                usage: { prompt_tokens: result.promptTokens, completion_tokens: completionTokens, total_tokens: result.promptTokens + completionTokens },
            });
        } finally {
            stats.inFlight -= 1;
            busy -= 1;
            waiting.shift()?.();
        }
    };
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    return {
        baseURL: `http://127.0.0.1:${port}/v1`,
        model,
        stats,
        close: () =>
            new Promise<void>((resolve) => {
                server.closeAllConnections();
                server.close(() => resolve());
            }),
    };
}

export function readBody(request: IncomingMessage): Promise<string> {
    return new Promise((resolve, reject) => {
        const chunks: Buffer[] = [];
        request.on("data", (chunk: Buffer) => chunks.push(chunk));
        request.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
        request.on("error", reject);
    });
}

export function send(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    if (response.headersSent || response.destroyed) return;
    const text = JSON.stringify(body);
    response.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers });
    response.end(text);
}
