import { z } from "zod";
import { RstarError } from "../errors/index.js";
import { PRESETS, breadthFirst, solveProblem, type ProblemOutcome, type SearchNode, type SearchServices, type SearchSettings } from "../search/index.js";
import { chatMessagesSchema } from "./chat-template.js";
import { SolveLog } from "./solve-log.js";
import { backendError, errorBody, invalid, nextId, type RouteResult, type SolverContext } from "./routes.js";

/**
 * Solver models: chat models whose reply is the project's search (verified Python steps, a reward model) over the
 * served policy, not one sample. Each name maps to search settings; a request's `rstar` field overrides a few.
 */
export interface SolverConfig {
    /** The policy, sandbox executor, judge and (for MCTS and reward-ranked best-of-N) reward model. */
    services: SearchServices;
    /** Served name → settings. Defaults to {@link defaultSolverModels} for the services given. */
    models?: Record<string, SearchSettings>;
    /** Most rollouts (MCTS), samples (best-of-N) or candidates one request may ask for. Defaults to 64. */
    maxBudget?: number;
    /** Solver requests running at once; more get 429. Defaults to 4. */
    maxInFlight?: number;
    /**
     * Longest one solver request may run: past it the search is stopped (its policy calls and code runs end) and the
     * request is answered 408 with `x-should-retry: false`. No limit when omitted. @unit ms
     */
    timeoutMs?: number;
    /** A run directory keeping every solved request (store.sqlite, results.jsonl, trees.jsonl); none when omitted. */
    storeDir?: string;
}

/**
 * `rstar-greedy` (the greedy preset), `rstar-bon-8` (best-of-N, 8 samples: chosen by the reward model when there is
 * one, else by majority vote) and, with a reward model, `rstar-mcts` (the eval-mcts preset: PPM leaf values and
 * terminal rewards; 8 rollouts x 8 candidates by default, the official README's budget-saving advice scaled down).
 */
export function defaultSolverModels(hasRewardModel: boolean): Record<string, SearchSettings> {
    const greedy = PRESETS["greedy"]?.settings as SearchSettings;
    const bestOfN = PRESETS["best-of-n"]?.settings as SearchSettings;
    const mcts = PRESETS["eval-mcts"]?.settings as SearchSettings;
    return {
        "rstar-greedy": { ...greedy },
        "rstar-bon-8": hasRewardModel ? { ...bestOfN, samples: 8 } : { ...bestOfN, samples: 8, terminalReward: "none", answerSelection: "majority" },
        ...(hasRewardModel ? { "rstar-mcts": { ...mcts, rollouts: 8, candidates: 8 } } : {}),
    };
}

const budget = z.number().int().min(1);

/** `POST /v1/chat/completions` for a solver model. */
export const solverRequestSchema = z.looseObject({
    model: z.string(),
    messages: chatMessagesSchema,
    n: z.literal(1).nullish(),
    seed: z.number().int().min(0).nullish(),
    stream: z.boolean().nullish(),
    stream_options: z.looseObject({ include_usage: z.boolean().nullish() }).nullish(),
    rstar: z
        .strictObject({ rollouts: budget.optional(), candidates: budget.optional(), samples: budget.optional(), temperature: z.number().min(0).max(100).optional() })
        .nullish(),
});


export function solverContext(config: SolverConfig): SolverContext {
    return {
        services: config.services,
        models: config.models ?? defaultSolverModels(config.services.rewardModel !== undefined),
        maxBudget: config.maxBudget ?? 64,
        maxInFlight: config.maxInFlight ?? 4,
        inFlight: 0,
        timeoutMs: config.timeoutMs,
        timedOut: 0,
        log: config.storeDir === undefined ? undefined : new SolveLog(config.storeDir),
    };
}

/** Chat with a solver model: the question is the one user message; the reply is the chosen, verified trajectory. */
export async function solverChat(solvers: SolverContext, raw: unknown, signal: AbortSignal): Promise<RouteResult> {
    const parsed = solverRequestSchema.safeParse(raw);
    if (!parsed.success) return invalid(parsed.error);
    const request = parsed.data;
    const base = solvers.models[request.model] as SearchSettings;
    const turns = request.messages.filter((message) => message.role === "user" || message.role === "assistant");
    const only = turns[0];
    if (turns.length !== 1 || only === undefined || only.role !== "user") {
        return errorBody(400, "a solver model answers one question: send one user message (system messages are dropped)", "messages");
    }
    const question = (typeof only.content === "string" ? only.content : (only.content ?? []).map((part) => part.text).join("")).trim();
    if (question === "") return errorBody(400, "the user message is empty: it must hold the question", "messages");
    const overrides = request.rstar ?? {};
    for (const key of ["rollouts", "candidates", "samples"] as const) {
        const value = overrides[key];
        if (value !== undefined && value > solvers.maxBudget) return errorBody(400, `rstar.${key}: at most ${solvers.maxBudget} per request on this server, got ${value}`, `rstar.${key}`);
    }
    const settings: SearchSettings = {
        ...base,
        ...(overrides.rollouts === undefined ? {} : { rollouts: overrides.rollouts }),
        ...(overrides.candidates === undefined ? {} : { candidates: overrides.candidates }),
        ...(overrides.samples === undefined ? {} : { samples: overrides.samples }),
        ...(overrides.temperature === undefined ? {} : { temperature: overrides.temperature }),
        ...(request.seed === undefined || request.seed === null ? {} : { seed: request.seed }),
    };
    if (solvers.inFlight >= solvers.maxInFlight) return errorBody(429, `${solvers.maxInFlight} solver requests are running; try again later`);
    const id = nextId("chatcmpl");
    const created = Math.floor(Date.now() / 1000);
    const model = request.model;
    // the search stops when the client disconnects or the request runs past the server's time limit
    const searchAbort = new AbortController();
    const stopSearch = () => searchAbort.abort(signal.reason);
    let timedOut = false;
    const solve = async (onProgress?: (line: string) => void) => {
        solvers.inFlight += 1;
        signal.addEventListener("abort", stopSearch, { once: true });
        const timer =
            solvers.timeoutMs === undefined
                ? undefined
                : setTimeout(() => {
                      timedOut = true;
                      solvers.timedOut += 1;
                      searchAbort.abort(new RstarError("ABORTED", `solver request ran past ${solvers.timeoutMs} ms`));
                  }, solvers.timeoutMs);
        try {
            if (signal.aborted) stopSearch();
            return await solveProblem({ index: 0, question, gold: null }, settings, solvers.services, {
                signal: searchAbort.signal,
                onEvent: (event) => {
                    if (event.type === "rollout-end") onProgress?.(`${settings.algorithm === "best-of-n" ? "sample" : "rollout"} ${event.rollout + 1} done\n`);
                },
            });
        } finally {
            clearTimeout(timer);
            signal.removeEventListener("abort", stopSearch);
            solvers.inFlight -= 1;
        }
    };
    const failure = (error: unknown) =>
        timedOut
            ? {
                  status: 408,
                  // OpenAI's clients retry 408 unless told not to: a retry would only run out of time again
                  headers: { "x-should-retry": "false" },
                  body: {
                      error: {
                          message: `the search ran past this server's limit of ${solvers.timeoutMs} ms per solver request (rstar serve --solver-timeout-ms) and was stopped; ask for a smaller budget (rstar: {rollouts, candidates, samples})`,
                          type: "timeout_error",
                          param: null,
                          code: 408,
                      },
                  },
              }
            : backendError(error);
    const record = (outcome: ProblemOutcome) => {
        const rendered = render(outcome);
        const position = solvers.log?.add(question, outcome, { id, model });
        return { ...rendered, rstar: { ...rendered.rstar, run: solvers.log === undefined ? null : { dir: solvers.log.dir, position } } };
    };

    if (request.stream !== true) {
        let outcome: ProblemOutcome;
        try {
            outcome = await solve();
        } catch (error) {
            return failure(error);
        }
        const reply = record(outcome);
        return {
            status: 200,
            body: {
                id,
                object: "chat.completion",
                created,
                model,
                choices: [{ index: 0, message: { role: "assistant", content: reply.content }, logprobs: null, finish_reason: "stop", stop_reason: null }],
                usage: usage(outcome),
                rstar: reply.rstar,
            },
        };
    }
    const includeUsage = request.stream_options?.include_usage === true;
    return {
        status: 200,
        stream: async (send) => {
            const chunk = (choice: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
                send({ id, object: "chat.completion.chunk", created, model, choices: [choice], ...(includeUsage ? { usage: null } : {}), ...extra });
            chunk({ index: 0, delta: { role: "assistant", content: "" }, logprobs: null, finish_reason: null });
            let outcome: ProblemOutcome;
            try {
                // progress goes to reasoning_content (what chat UIs show as the model's thinking), the answer to content
                outcome = await solve((line) => chunk({ index: 0, delta: { reasoning_content: line }, logprobs: null, finish_reason: null }));
            } catch (error) {
                if (signal.aborted) return;
                send(failure(error).body);
                return;
            }
            const reply = record(outcome);
            chunk({ index: 0, delta: { content: reply.content }, logprobs: null, finish_reason: null });
            chunk({ index: 0, delta: {}, logprobs: null, finish_reason: "stop", stop_reason: null }, { rstar: reply.rstar });
            if (includeUsage) send({ id, object: "chat.completion.chunk", created, model, choices: [], usage: usage(outcome) });
        },
    };
}

/** The chosen trajectory for a person (reasoning, code, real outputs, boxed answer) and the audit record. */
function render(outcome: ProblemOutcome): { content: string; rstar: Record<string, unknown> } {
    const chosen = outcome.selected === null ? null : findNode(outcome.root, outcome.selected.tag);
    const votes: Record<string, number> = {};
    for (const terminal of outcome.terminalAnswers) votes[terminal.answer] = (votes[terminal.answer] ?? 0) + 1;
    const content = chosen === null ? "The search found no answer." : chosen.partialSolution().trim();
    return {
        content,
        rstar: {
            answer: outcome.selected?.answer ?? null,
            value: outcome.selected?.value ?? null,
            votes,
            tag: outcome.selected?.tag ?? null,
            counters: outcome.counters,
            durationMs: Math.round(outcome.durationMs),
        },
    };
}

function usage(outcome: ProblemOutcome) {
    const { promptTokens, completionTokens } = outcome.counters;
    return { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
}

function findNode(root: SearchNode, tag: string): SearchNode | null {
    for (const node of breadthFirst(root)) if (node.tag === tag) return node;
    return null;
}
