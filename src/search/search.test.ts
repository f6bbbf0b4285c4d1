import { describe, expect, it } from "vitest";
import { MockLlmBackend, type GenerateRequest, type MockCompletion } from "../llm/index.js";
import { ScriptedRewardModel } from "../reward/index.js";
import {
    BASE_SETTINGS,
    PRESETS,
    officialFilter,
    puct,
    selectAnswer,
    selectChild,
    solveProblem,
    toOfficialStates,
    SearchNode,
    type AnswerJudge,
    type SearchSettings,
    type StepExecutor,
} from "./index.js";

/** A fake sandbox: the observation is the value printed by `print(<int>)` at the end, errors for `1/0`. */
const executor: StepExecutor = {
    async run(code) {
        if (code.includes("1/0")) return { ok: false, observation: "ZeroDivisionError: division by zero" };
        const printed = /print\((\d+)\)\s*$/.exec(code);
        return { ok: true, observation: printed ? (printed[1] as string) : "" };
    },
};
const judge: AnswerJudge = { async equal(gold, pred) { return (Array.isArray(gold) ? gold : [gold]).includes(pred.trim()); } };

/** A policy scripted by the last step of the partial solution: `next[lastStepKey]` lists the candidates. */
function treePolicy(next: Record<string, MockCompletion[]>) {
    return new MockLlmBackend({
        script: (request: GenerateRequest) => {
            const partial = request.prompt.split("solve the problem with code.")[1] ?? "";
            const key = Object.keys(next).filter((k) => partial.endsWith(k)).sort((a, b) => b.length - a.length)[0] ?? "";
            const candidates = next[key];
            if (!candidates) throw new Error(`no script for partial solution ${JSON.stringify(partial)}`);
            return { completions: candidates, usage: { promptTokens: 10, completionTokens: 5, totalTokens: 15 } };
        },
    });
}

const step = (text: string, stop = "<end_of_step>"): MockCompletion => ({ text, stop, finishReason: "stop" });
const settings = (overrides: Partial<SearchSettings>): SearchSettings => ({ ...BASE_SETTINGS, ...overrides });

describe("selection", () => {
    it("scores unvisited children 0 and visited ones Q + c·sqrt(ln N / n)", () => {
        const root = new SearchNode(null, "0");
        const a = root.addChild();
        const b = root.addChild();
        root.update(1);
        root.update(-1);
        root.update(1);
        a.update(1);
        a.update(-1);
        expect(puct(b, 2)).toBe(0);
        expect(puct(a, 2)).toBeCloseTo(0 + 2 * Math.sqrt(Math.log(3) / 2), 12);
    });

    it("skips terminal children and breaks ties toward the first", () => {
        const root = new SearchNode(null, "0");
        const [a, b, c] = [root.addChild(), root.addChild(), root.addChild()];
        a.markTerminal("invalid-step");
        expect(selectChild(root, 2)).toBe(b);
        b.markTerminal("answer");
        c.markTerminal("too-deep");
        expect(selectChild(root, 2)).toBeNull();
    });
});

describe("official candidate filter", () => {
    it("drops repeated texts and keeps only the first answer-ending candidate", () => {
        const c = (text: string, stop: string) => ({ index: 0, text, stop, finishReason: "stop" as const, stopInferred: false });
        expect(officialFilter([c("a", "<end_of_step>"), c("a", "<end_of_code>"), c("b", "<end_of_step>")]).map((x) => x.text)).toEqual(["a", "b"]);
        expect(officialFilter([c("a", "<end_of_step>"), c("x", "<end_of_answer>"), c("y", "<end_of_answer>")]).map((x) => x.text)).toEqual(["x"]);
    });
});

describe("MCTS", () => {
    // Root offers two first steps; the first leads to a correct answer, the second to a code error.
    const policy = () =>
        treePolicy({
            "": [step("<code>\nx = 1\n"), step("<code>\ny = 1/0\n")],
            "x = 1\n<end_of_step>": [step("\nprint(1)\n", "<end_of_code>"), step("\nprint(1)\n", "<end_of_code>")],
            "<output>1<end_of_output>": [step("\n<answer>\\boxed{1}", "<end_of_answer>"), step("\n<answer>\\boxed{2}", "<end_of_answer>")],
        });

    it("expands, executes, grades and back-propagates like the official solver", async () => {
        const backend = policy();
        const outcome = await solveProblem(
            { index: 0, question: "What is one?", gold: "1" },
            settings({ rollouts: 3, candidates: 2, errorThreshold: 1 }),
            { policy: backend, executor, judge },
        );
        const states = toOfficialStates(outcome.root, "What is one?");
        expect(Object.keys(states)).toEqual(["0", "0.1", "0.2", "0.1.1", "0.1.1.1"]);
        // 0.2 fails its code with errorThreshold 1: a failed terminal, valued -1 on itself only.
        expect(states["0.2"]).toMatchObject({ final_answer: "Too many consecutive steps have code errors.", value: -1, visit_count: 1, terminal_reason: "too-many-errors" });
        expect(states["0.2"]?.text).toBe("<code>\ny = 1/0\n<end_of_step><end_of_code>\n<output>ZeroDivisionError: division by zero<end_of_output>");
        // duplicate last-code candidates merged; the output block appended; only the first answer kept.
        expect(states["0.1.1"]?.text).toBe("\nprint(1)\n<end_of_code>\n<output>1<end_of_output>");
        expect(states["0.1.1"]?.observation).toBe("1");
        expect(states["0.1.1.1"]).toMatchObject({ final_answer: "1", value: 1, q_value: 1, visit_count: 1, correct: true });
        // the +1 reached the root once; no other terminal reward was back-propagated.
        expect(states["0"]).toMatchObject({ extra_info: "question: What is one?", visit_count: 1, q_value: 1 });
        expect(states["0.1"]).toMatchObject({ visit_count: 1, q_value: 1, action: "python_interpreter", action_input: "<code>\nx = 1\n<end_of_step>" });
        expect(outcome).toMatchObject({ correct: true, passAny: true, selected: { answer: "1", value: 1 } });
        // Rollout 1 expands three nodes; rollout 2 finds 0.1's only child terminal and closes 0.1; rollout 3 closes the root.
        expect(backend.calls).toHaveLength(3);
        expect(outcome.root.terminal).toBe(true);
        expect(outcome.counters).toMatchObject({ requests: 3, promptTokens: 30, completionTokens: 15, codeRuns: 3, nodes: 5 });
    });

    it("sends seeds that depend on the problem and node, never on timing", async () => {
        const first = policy();
        const second = policy();
        const problem = { index: 7, question: "Q", gold: "1" };
        await solveProblem(problem, settings({ rollouts: 2, candidates: 2, seed: 5 }), { policy: first, executor, judge });
        await solveProblem(problem, settings({ rollouts: 2, candidates: 2, seed: 5 }), { policy: second, executor, judge });
        expect(first.calls.map((c) => c.request.seed)).toEqual(second.calls.map((c) => c.request.seed));
        expect(new Set(first.calls.map((c) => c.request.seed)).size).toBe(first.calls.length);
    });

    it("uses reward-model scores as leaf values and terminal rewards in inference", async () => {
        const reward = new ScriptedRewardModel((item) => (item.partialSolution.includes("boxed{1}") ? 0.9 : item.partialSolution.includes("x = 1") ? 0.5 : -0.5));
        const outcome = await solveProblem(
            { index: 0, question: "Q", gold: "1" },
            settings({ rollouts: 2, candidates: 2, terminalReward: "reward-model", leafValue: true }),
            { policy: policy(), executor, judge, rewardModel: reward },
        );
        const states = toOfficialStates(outcome.root, "Q");
        expect(states["0.1"]).toMatchObject({ reward_score: 0.5, value: 0.5 });
        expect(states["0.1.1.1"]).toMatchObject({ value: 0.9, reward_score: 0.9, correct: true });
        expect(outcome.selected?.value).toBeCloseTo(0.9);
        expect(reward.calls.length).toBeGreaterThan(0);
    });

    it("refuses settings that need a reward model when none is given, before any request", async () => {
        const backend = policy();
        await expect(solveProblem({ index: 0, question: "Q", gold: "1" }, PRESETS["eval-mcts"]!.settings, { policy: backend, executor, judge })).rejects.toMatchObject({
            code: "CONFIG_INVALID",
        });
        expect(backend.calls).toHaveLength(0);
    });

    it("keeps at most one rollout per node expanding when rollouts run in parallel (virtual loss)", async () => {
        const backend = policy();
        const outcome = await solveProblem({ index: 0, question: "Q", gold: "1" }, settings({ rollouts: 4, candidates: 2, parallelRollouts: 3 }), {
            policy: backend,
            executor,
            judge,
        });
        const prompts = backend.calls.map((c) => c.request.prompt);
        expect(new Set(prompts).size).toBe(prompts.length);
        expect(outcome.correct).toBe(true);
    });
});

describe("greedy, best-of-N and beam search", () => {
    const chain = () =>
        treePolicy({
            "": [step("<code>\nx = 1\nprint(1)\n", "<end_of_code>")],
            "<output>1<end_of_output>": [step("\n<answer>\\boxed{1}", "<end_of_answer>")],
        });

    it("greedy follows one candidate per step to an answer", async () => {
        const backend = chain();
        const outcome = await solveProblem({ index: 0, question: "Q", gold: "1" }, PRESETS["greedy"]!.settings, { policy: backend, executor, judge });
        expect(backend.calls.map((c) => [c.request.n, c.request.temperature])).toEqual([[1, 0], [1, 0]]);
        expect(outcome).toMatchObject({ correct: true, selected: { answer: "1" } });
    });

    it("best-of-N keeps every sample and votes", async () => {
        const outcome = await solveProblem(
            { index: 0, question: "Q", gold: "1" },
            settings({ algorithm: "best-of-n", samples: 3, terminalReward: "none", answerSelection: "majority" }),
            { policy: chain(), executor, judge },
        );
        expect(outcome.terminalAnswers).toHaveLength(3);
        expect(outcome.selected?.answer).toBe("1");
    });

    it("beam search ranks steps by the reward model and narrows the beam per answer", async () => {
        const reward = new ScriptedRewardModel((item) => (item.partialSolution.includes("boxed{1}") ? 1 : 0));
        const outcome = await solveProblem(
            { index: 0, question: "Q", gold: "1" },
            settings({ algorithm: "beam", beamWidth: 2, candidates: 2, terminalReward: "reward-model", leafValue: true }),
            { policy: chain(), executor, judge, rewardModel: reward },
        );
        expect(outcome.selected).toMatchObject({ answer: "1", value: 1 });
    });
});

describe("step budget: every rollout takes at most maxDepth steps (official solver.py:229)", () => {
    // A policy that never stops writing code: every step is another code step, so only the budget ends a walk.
    const endless = () => treePolicy({ "": [step("<code>\nx = 1\n")], "<end_of_step>": [step("\nx = x + 1\n")] });
    // Code, then the final print, then the answer, then (if asked) another code step.
    const threeSteps = () =>
        treePolicy({
            "": [step("<code>\nx = 1\n")],
            "x = 1\n<end_of_step>": [step("\nprint(1)\n", "<end_of_code>")],
            "<output>1<end_of_output>": [step("\n<answer>\\boxed{1}", "<end_of_answer>")],
        });

    it("greedy with maxDepth 2 stops after two steps and never accepts a third", async () => {
        const backend = threeSteps();
        const outcome = await solveProblem({ index: 0, question: "Q", gold: "1" }, PRESETS["greedy"]!.settings, { policy: backend, executor, judge });
        expect(backend.calls).toHaveLength(2);
        expect(outcome.terminalAnswers).toEqual([]);
        expect(outcome.selected).toBeNull();
        expect(outcome.counters.stepBudgetEnds).toBe(1);
        const states = toOfficialStates(outcome.root, "Q");
        expect(Object.keys(states)).toEqual(["0", "0.1", "0.1.1"]);
        expect(states["0.1.1"]).toMatchObject({ kind: "last-code", terminal_reason: null });
    });

    it("greedy reaches the answer when it fits in maxDepth steps", async () => {
        const backend = threeSteps();
        const outcome = await solveProblem({ index: 0, question: "Q", gold: "1" }, { ...PRESETS["greedy"]!.settings, maxDepth: 3 }, { policy: backend, executor, judge });
        expect(backend.calls).toHaveLength(3);
        expect(outcome).toMatchObject({ selected: { answer: "1" }, counters: { stepBudgetEnds: 0 } });
    });

    it("MCTS: the first rollout expands maxDepth nodes; later rollouts start with a free selection below the root", async () => {
        const backend = endless();
        const one = await solveProblem({ index: 0, question: "Q", gold: "1" }, settings({ rollouts: 1, candidates: 1, maxDepth: 3 }), { policy: backend, executor, judge });
        // Official rollout 0: steps 0..2 expand depths 0..2 and select a node at depth 3, which stays open.
        expect(backend.calls).toHaveLength(3);
        expect(Object.keys(toOfficialStates(one.root, "Q"))).toEqual(["0", "0.1", "0.1.1", "0.1.1.1"]);
        expect(one.counters.stepBudgetEnds).toBe(1);

        const again = endless();
        const two = await solveProblem({ index: 0, question: "Q", gold: "1" }, settings({ rollouts: 2, candidates: 1, maxDepth: 3 }), { policy: again, executor, judge });
        // Rollout 1 selects depth 1 from the root, then steps through depths 1 and 2 and expands depth 3: its child at
        // depth 4 is too deep, so depth 3 closes.
        expect(again.calls).toHaveLength(4);
        const states = toOfficialStates(two.root, "Q");
        expect(states["0.1.1.1.1"]).toMatchObject({ terminal_reason: "too-deep", value: -1 });
        expect(states["0.1.1.1"]).toMatchObject({ terminal_reason: "dead-end" });
        expect(two.counters.stepBudgetEnds).toBe(1);
    });

    it("best-of-N chains and beam search take at most maxDepth steps", async () => {
        const bon = endless();
        const outcome = await solveProblem(
            { index: 0, question: "Q", gold: "1" },
            settings({ algorithm: "best-of-n", samples: 2, maxDepth: 3, terminalReward: "none" }),
            { policy: bon, executor, judge },
        );
        // one request for both first steps, then two more steps per chain
        expect(bon.calls).toHaveLength(1 + 2 * 2);
        expect(outcome.counters.stepBudgetEnds).toBe(2);

        const reward = new ScriptedRewardModel(() => 0.5);
        const beam = endless();
        const beamOutcome = await solveProblem(
            { index: 0, question: "Q", gold: "1" },
            settings({ algorithm: "beam", beamWidth: 1, candidates: 1, maxDepth: 3, terminalReward: "reward-model", leafValue: true }),
            { policy: beam, executor, judge, rewardModel: reward },
        );
        expect(beam.calls).toHaveLength(3);
        expect(beamOutcome.counters.stepBudgetEnds).toBe(1);
    });
});

describe("completions that end without a step marker run as code, as officially (agents/utils.py:133-139)", () => {
    const ran: string[] = [];
    const recording: StepExecutor = {
        async run(code, options) {
            ran.push(code);
            return executor.run(code, options);
        },
    };
    it.each([
        ["cut at the length limit", { text: "<code>\nx = 1\n", stop: null, finishReason: "length" as const }, "<code>\nx = 1\n"],
        ["ended by end-of-sequence", { text: "<code>\nx = 1\n", stop: null, finishReason: "stop" as const }, "<code>\nx = 1\n"],
        ["stopped at <end_of_output>", { text: "<code>\nx = 1\n", stop: "<end_of_output>", finishReason: "stop" as const }, "<code>\nx = 1\n<end_of_output>"],
    ])("%s: the program runs and the node stays open when it succeeds", async (_name, completion, text) => {
        ran.length = 0;
        const backend = treePolicy({ "": [completion], [text]: [step("\nprint(1)\n", "<end_of_code>")], "<output>1<end_of_output>": [step("\n<answer>\\boxed{1}", "<end_of_answer>")] });
        const outcome = await solveProblem({ index: 0, question: "Q", gold: "1" }, settings({ rollouts: 1, candidates: 1 }), { policy: backend, executor: recording, judge });
        const states = toOfficialStates(outcome.root, "Q");
        expect(states["0.1"]).toMatchObject({ kind: "code", terminal_reason: null, action: "python_interpreter", action_input: text, text });
        expect(ran[0]).toContain("x = 1");
        expect(outcome).toMatchObject({ correct: true, selected: { answer: "1" } });
    });

    it("a cut-off program that fails counts as a code error (a terminal at errorThreshold 1)", async () => {
        const backend = treePolicy({ "": [{ text: "<code>\ny = 1/0", stop: null, finishReason: "length" }] });
        const outcome = await solveProblem({ index: 0, question: "Q", gold: "1" }, settings({ rollouts: 1, candidates: 1, errorThreshold: 1 }), { policy: backend, executor, judge });
        expect(toOfficialStates(outcome.root, "Q")["0.1"]).toMatchObject({ terminal_reason: "too-many-errors", final_answer: "Too many consecutive steps have code errors." });
    });
});

describe("a node the reward model gave no value (official mcts.py:183-185)", () => {
    it("is updated with the negative reward and becomes terminal, so no rollout builds on it", async () => {
        const backend = treePolicy({
            "": [step("<code>\nx = 1\n"), step("<code>\nz = 2\n")],
            "x = 1\n<end_of_step>": [step("\nprint(1)\n", "<end_of_code>")],
            "<output>1<end_of_output>": [step("\n<answer>\\boxed{1}", "<end_of_answer>")],
            "z = 2\n<end_of_step>": [step("\nprint(2)\n", "<end_of_code>")],
        });
        const reward = new ScriptedRewardModel((item) => (item.partialSolution.endsWith("z = 2\n<end_of_step>") ? Number.NaN : 0.5));
        const outcome = await solveProblem(
            { index: 0, question: "Q", gold: "1" },
            settings({ rollouts: 4, candidates: 2, terminalReward: "reward-model", leafValue: true }),
            { policy: backend, executor, judge, rewardModel: reward },
        );
        const states = toOfficialStates(outcome.root, "Q");
        expect(states["0.2"]).toMatchObject({ terminal_reason: "no-value", value: -1, visit_count: 1, reward_score: null });
        expect(Object.keys(states).filter((tag) => tag.startsWith("0.2."))).toEqual([]);
    });
});

describe("code limit", () => {
    it("every preset passes its code timeout to the sandbox: the official 30 s per program", async () => {
        const limits: (number | undefined)[] = [];
        const timing: StepExecutor = {
            async run(code, options) {
                limits.push(options?.timeoutMs);
                return executor.run(code, options);
            },
        };
        const backend = treePolicy({ "": [step("<code>\nx = 1\nprint(1)\n", "<end_of_code>")], "<output>1<end_of_output>": [step("\n<answer>\\boxed{1}", "<end_of_answer>")] });
        await solveProblem({ index: 0, question: "Q", gold: "1" }, PRESETS["greedy"]!.settings, { policy: backend, executor: timing, judge });
        expect(limits).toEqual([30_000]);
        for (const preset of Object.values(PRESETS)) {
            expect(preset.settings.codeTimeoutMs).toBe(30_000);
            expect(preset.provenance).toContain("python_tool.py:15");
        }
        await solveProblem({ index: 0, question: "Q", gold: "1" }, { ...PRESETS["greedy"]!.settings, codeTimeoutMs: 1234 }, { policy: treePolicy({ "": [step("<code>\nprint(1)\n", "<end_of_code>")], "<output>1<end_of_output>": [step("\n<answer>\\boxed{1}", "<end_of_answer>")] }), executor: timing, judge });
        expect(limits.at(-1)).toBe(1234);
    });
});

describe("answer selection", () => {
    const answers = [
        { answer: "2", value: 0.9, correct: false, tag: "a" },
        { answer: "1", value: 0.5, correct: true, tag: "b" },
        { answer: "1", value: 0.4, correct: true, tag: "c" },
    ];
    it("picks the highest value, the majority, or the weighted vote", async () => {
        expect((await selectAnswer(answers, "value", 0, judge))?.answer).toBe("2");
        expect((await selectAnswer(answers, "majority", 0, judge))?.answer).toBe("1");
        expect((await selectAnswer(answers, "majority", 1, judge))?.answer).toBe("2");
        // weights (v+1)/2: "2" → 0.95; "1" → 0.75 + 0.7 = 1.45
        expect((await selectAnswer(answers, "weighted", 0, judge))?.answer).toBe("1");
        expect(await selectAnswer([], "value", 0, judge)).toBeNull();
    });
});
