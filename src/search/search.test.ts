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
