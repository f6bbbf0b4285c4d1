import { describe, expect, it } from "vitest";
import { checkEvalSettings, methodSettings, parseMethod } from "./methods.js";

describe("eval methods", () => {
    it("parses greedy, maj@K, bon@K, beam and mcts, and nothing else", () => {
        expect(parseMethod("maj@8")).toEqual({ name: "maj", k: 8, label: "maj@8" });
        expect(parseMethod("bon@64")).toMatchObject({ name: "bon", k: 64 });
        expect(parseMethod("mcts")).toMatchObject({ name: "mcts", k: null });
        for (const bad of ["maj@0", "maj", "bon@x", "best", "mcts@4", ""]) expect(() => parseMethod(bad), bad).toThrow(/--method/);
    });

    it("maj@K votes without a reward model, bon@K ranks by it; neither sees the gold answer", () => {
        const maj = methodSettings(parseMethod("maj@5"), false);
        expect(maj).toMatchObject({ algorithm: "best-of-n", samples: 5, terminalReward: "none", leafValue: false, answerSelection: "majority" });
        const bon = methodSettings(parseMethod("bon@3"), false);
        expect(bon).toMatchObject({ algorithm: "best-of-n", samples: 3, terminalReward: "reward-model", answerSelection: "value" });
        for (const name of ["greedy", "maj@2", "bon@2", "beam", "mcts"]) {
            const settings = methodSettings(parseMethod(name), true);
            expect(settings.terminalReward, name).not.toBe("ground-truth");
            expect(() => checkEvalSettings(settings)).not.toThrow();
        }
        expect(() => checkEvalSettings({ ...maj, terminalReward: "ground-truth" })).toThrow(/gold answer/);
        // The shipped tiny policy writes one step per request in a 1,024-token context.
        expect(methodSettings(parseMethod("greedy"), true)).toMatchObject({ maxDepth: 16, maxTokens: 256, stop: ["<end_of_step>", "<end_of_code>", "<end_of_answer>"] });
        expect(methodSettings(parseMethod("mcts"), true)).toMatchObject({ rollouts: 8, candidates: 4, terminalReward: "reward-model", leafValue: true });
    });

    it("samples the shipped policy at temperature 0.5 (as rstar evolve --preset synthetic evaluates it), other policies at their preset's", () => {
        for (const name of ["maj@8", "bon@4", "beam", "mcts"]) {
            expect(methodSettings(parseMethod(name), true).temperature, name).toBe(0.5);
            expect(methodSettings(parseMethod(name), false).temperature, name).toBeGreaterThan(0.5);
        }
        expect(methodSettings(parseMethod("greedy"), true).temperature).toBe(0);
    });

});
