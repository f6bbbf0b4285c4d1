import { afterEach, describe, expect, it } from "vitest";
import { OpenAiCompatibleBackend } from "../../src/llm/index.js";
import {
    STEP_STOPS,
    buildRstarPrompt,
    nextStep,
    parseRstarPrompt,
    simulateCompletion,
    solveQuestion,
    startSimulatedPolicyServer,
    type SimulatedPolicyServer,
} from "../support/simulated-policy.js";

const greedy = { n: 1, temperature: 0, maxTokens: 512, stop: [...STEP_STOPS] };

/** Plays search: append each greedy step and its stop; after <end_of_code>, append the output the code would print. */
function rollout(question: string, options = {}, sample = greedy): string {
    let partial = "";
    for (let turn = 0; turn < 20; turn += 1) {
        const choice = simulateCompletion(buildRstarPrompt(question, partial), sample, options).choices[0];
        if (choice === undefined || choice.stop === null) break;
        partial += choice.text + choice.stop;
        if (choice.stop === "<end_of_code>") partial += `\n<output>${String(runPython(partial))}<end_of_output>`;
        if (choice.stop === "<end_of_answer>") break;
    }
    return partial;
}

/** Enough Python for the simulated steps: assignments of + - * over ints and earlier names, then print(name). */
function runPython(partial: string): number | string {
    const scope = new Map<string, number>();
    for (const line of partial.split("\n")) {
        const assignment = /^(x\d+) = (.+)$/.exec(line);
        if (assignment !== null) {
            const expression = (assignment[2] ?? "").replace(/x\d+/g, (name) => {
                const value = scope.get(name);
                if (value === undefined) throw new Error(`NameError: name '${name}' is not defined`);
                return `(${value})`;
            });
            scope.set(assignment[1] ?? "", Function(`return ${expression}`)() as number);
        }
        const printed = /^print\((x\d+)\)$/.exec(line);
        if (printed !== null) return scope.get(printed[1] ?? "") ?? "NameError";
    }
    return "";
}

describe("simulated policy (in-process)", () => {
    it("parses the rStar prompt and the question language", () => {
        expect(parseRstarPrompt(buildRstarPrompt("Compute 1 + 2.", "<code>"))).toEqual({ question: "Compute 1 + 2.", partial: "<code>" });
        expect(solveQuestion("Compute 3 + 4 * 5.")).toBe(23);
        expect(solveQuestion("What is (2 + 3) * (7 - 4)?")).toBe(15);
        expect(solveQuestion("12")).toBe(12);
        expect(solveQuestion("Compute the meaning of life.")).toBeNull();
    });

    it("writes the step format: <code> first, one operation per step, print, then the boxed answer", () => {
        const solution = rollout("Compute 3 + 4 * 5.");
        expect(solution).toBe(
            "<code>\n# Step 1: compute 4 * 5\nx1 = 4 * 5\n<end_of_step>" +
                "\n# Step 2: compute 3 + x1\nx2 = 3 + x1\n<end_of_step>" +
                "\n# Now print the final answer\nprint(x2)\n<end_of_code>\n<output>23<end_of_output>" +
                "\n<answer>The answer is \\boxed{23}<end_of_answer>",
        );
        expect(nextStep(buildRstarPrompt("1 + 1", solution), { seed: 1, index: 0, temperature: 1 })).toBe("");
    });

    it("is deterministic given the seed, and samples differ across indices and seeds", () => {
        const prompt = buildRstarPrompt("Compute (1 + 2) * (3 + 4) - 5.");
        const settings = { n: 8, temperature: 1, maxTokens: 512, stop: [...STEP_STOPS], seed: 7 };
        const options = { stepCorrectProbability: 0.5, codeErrorProbability: 0.2 };
        expect(simulateCompletion(prompt, settings, options)).toEqual(simulateCompletion(prompt, settings, options));
        const texts = simulateCompletion(prompt, settings, options).choices.map((choice) => choice.text);
        expect(new Set(texts).size).toBeGreaterThan(1);
        expect(simulateCompletion(prompt, { ...settings, seed: 8 }, options).choices.map((choice) => choice.text)).not.toEqual(texts);
    });

    it("makes wrong steps and failing code at the configured rates", () => {
        const question = "Compute 3 + 4 * 5.";
        const wrong = rollout(question, { stepCorrectProbability: 0 }, { ...greedy, temperature: 1, n: 1 });
        expect(wrong).toContain("<answer>");
        expect(wrong).not.toContain("\\boxed{23}");
        const failing = simulateCompletion(buildRstarPrompt(question), { ...greedy, temperature: 1 }, { codeErrorProbability: 1 }).choices[0];
        expect(failing?.text).toContain("x1 = x2 * 5");
    });

    it("cuts at the earliest stop and at maxTokens", () => {
        const prompt = buildRstarPrompt("Compute 3 + 4.");
        expect(simulateCompletion(prompt, { ...greedy, stop: [] }).choices[0]).toMatchObject({ stop: null, text: "<code>\n# Step 1: compute 3 + 4\nx1 = 3 + 4\n<end_of_step>" });
        expect(simulateCompletion(prompt, { ...greedy, stop: ["\n"] }).choices[0]).toMatchObject({ stop: "\n", text: "<code>" });
        expect(simulateCompletion(prompt, { ...greedy, maxTokens: 3 }).choices[0]).toMatchObject({ finishReason: "length", text: "<code>" });
    });
});

describe("simulated policy (HTTP server)", () => {
    let server: SimulatedPolicyServer | undefined;
    afterEach(async () => {
        await server?.close();
    });

    it("serves /v1/completions and /v1/models, honours n, seed and service time, and 404s unknown models", async () => {
        server = await startSimulatedPolicyServer({ serviceTimeMs: 50, stepCorrectProbability: 0.5, model: "policy" });
        const backend = new OpenAiCompatibleBackend({ baseURL: server.baseURL, model: "policy" });
        const prompt = buildRstarPrompt("Compute 2 * 3 + 4.");
        const request = { prompt, n: 4, temperature: 1, topP: 1, maxTokens: 128, stop: [...STEP_STOPS], seed: 3 };
        const started = Date.now();
        const [first, second] = await Promise.all([backend.generate(request), backend.generate(request)]);
        expect(Date.now() - started).toBeGreaterThanOrEqual(45);
        expect(first.completions).toHaveLength(4);
        expect(first.completions).toEqual(second.completions);
        expect(first.completions.map((completion) => completion.text)).toEqual(simulateCompletion(prompt, request, { stepCorrectProbability: 0.5 }).choices.map((choice) => choice.text));
        expect(first.completions.every((completion) => completion.stop === "<end_of_step>" && !completion.stopInferred)).toBe(true);
        expect(server.stats).toMatchObject({ requests: 2, maxInFlight: 2, inFlight: 0 });
        expect(await backend.listModels()).toEqual([{ id: "policy", ownedBy: "simulated" }]);
        const other = new OpenAiCompatibleBackend({ baseURL: server.baseURL, model: "missing" });
        await expect(other.generate(request)).rejects.toMatchObject({ code: "BACKEND_MODEL_NOT_FOUND" });
        await backend.dispose();
        await other.dispose();
    });

    it("ignoreSeed answers a prompt the same whatever the seed; slots queue requests; latency grows with the longest sample's tokens", async () => {
        server = await startSimulatedPolicyServer({ stepCorrectProbability: 0.5, ignoreSeed: true, slots: 2, serviceTimeMs: 10, perTokenMs: 2 });
        const backend = new OpenAiCompatibleBackend({ baseURL: server.baseURL, model: server.model });
        const prompt = buildRstarPrompt("Compute 2 * 3 + 4.");
        const request = { prompt, n: 6, temperature: 1, topP: 1, maxTokens: 128, stop: [...STEP_STOPS] };
        const started = Date.now();
        const answers = await Promise.all([1, 2, 3, 4, 5].map((seed) => backend.generate({ ...request, seed })));
        const texts = answers.map((answer) => answer.completions.map((completion) => completion.text));
        expect(new Set(texts.map((text) => JSON.stringify(text))).size).toBe(1);
        expect(new Set(texts[0]).size).toBeGreaterThan(1);
        expect(server.stats).toMatchObject({ requests: 5, maxInFlight: 5 });
        // Five requests through two slots: three rounds, each of 10 ms plus 2 ms for each token of the longest sample.
        const longest = Math.max(...simulateCompletion(prompt, { ...request, seed: 0 }, { stepCorrectProbability: 0.5 }).choices.map((choice) => choice.completionTokens));
        expect(Date.now() - started).toBeGreaterThanOrEqual(3 * (10 + 2 * longest) - 5);
        await backend.dispose();
    });
});
