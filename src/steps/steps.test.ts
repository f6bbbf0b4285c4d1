import { describe, expect, it } from "vitest";
import { closeCodeStep, extractCode, outputSuffix, parseStep, programForStep } from "./index.js";
import { bootstrapPrompt, chatPromptFormatter, sftPrompt } from "./prompts.js";

describe("prompts", () => {
    it("formats the SFT template exactly as the official trainer", () => {
        expect(sftPrompt("What is 1+1?")).toBe(
            "<|user|>:\nWhat is 1+1?\n<|assistant|>: Let's think step by step and solve the problem with code.",
        );
        expect(sftPrompt("Q", "<code>\nx = 1\n<end_of_step>")).toBe(
            "<|user|>:\nQ\n<|assistant|>: Let's think step by step and solve the problem with code.<code>\nx = 1\n<end_of_step>",
        );
    });

    it("puts instructions, two demonstrations, then the question and partial solution in the bootstrap prompt", () => {
        const prompt = bootstrapPrompt("How many sides has a hexagon?", "<code>\n");
        expect(prompt.indexOf("The following are 2 demonstration examples.")).toBeGreaterThan(0);
        // the instructions' template line, the two demonstrations, and the question asked
        expect(prompt.match(/^Question: /gm)).toHaveLength(4);
        expect(prompt.endsWith("Now it is your turn.\nQuestion: How many sides has a hexagon?\n<code>\n")).toBe(true);
    });
});

describe("chatPromptFormatter", () => {
    it("sends the bootstrap instructions, examples and question as the user message and the partial solution as the reply's start; SFT stays raw", () => {
        const seen: [string, string][] = [];
        const format = chatPromptFormatter((user, prefix) => {
            seen.push([user, prefix]);
            return `[U]${user}[A]${prefix}`;
        });
        expect(format("bootstrap", "How many sides has a hexagon?", "<code>\n")).toBe(`[U]${bootstrapPrompt("How many sides has a hexagon?").trimEnd()}[A]<code>\n`);
        expect(seen[0]?.[0].endsWith("Question: How many sides has a hexagon?")).toBe(true);
        expect(format("sft", "How many sides has a hexagon?", "<code>\n")).toBe(sftPrompt("How many sides has a hexagon?", "<code>\n"));
        expect(seen).toHaveLength(1);
    });
});

describe("parseStep", () => {
    it("reads a code step ending in <end_of_step>", () => {
        const step = parseStep({ text: "<code>\n# Step 1: add\nx = 3 + 4\n", stop: "<end_of_step>", finishReason: "stop" });
        expect(step).toEqual({ kind: "code", text: "<code>\n# Step 1: add\nx = 3 + 4\n<end_of_step>", code: "# Step 1: add\nx = 3 + 4" });
    });

    it("reads the last code step ending in <end_of_code>", () => {
        const step = parseStep({ text: "\n# Now print the final answer\nprint(x)\n", stop: "<end_of_code>", finishReason: "stop" });
        expect(step.kind).toBe("last-code");
        expect(step.kind === "last-code" && step.code).toBe("# Now print the final answer\nprint(x)");
    });

    it("reads an answer step and extracts the boxed answer with nested braces", () => {
        const step = parseStep({ text: "\n<answer>So it is \\boxed{\\frac{3}{2}}.", stop: "<end_of_answer>", finishReason: "stop" });
        expect(step).toMatchObject({ kind: "answer", answer: "\\frac{3}{2}" });
    });

    it("accepts an answer that ended with end-of-sequence instead of <end_of_answer>", () => {
        const step = parseStep({ text: "\n<answer>\\boxed{7}", stop: null, finishReason: "stop" });
        expect(step).toMatchObject({ kind: "answer", answer: "7" });
    });

    it("keeps a code step that mentions \\boxed in a comment as code (official would call it an answer)", () => {
        const step = parseStep({ text: "\n# the result goes in \\boxed{} later\ny = 2\n", stop: "<end_of_step>", finishReason: "stop" });
        expect(step.kind).toBe("code");
    });

    it.each([
        [{ text: "   \n", stop: null, finishReason: "stop" as const }, "empty"],
        [{ text: "\n<answer>It is seven.", stop: "<end_of_answer>", finishReason: "stop" as const }, "answer-without-box"],
        [{ text: "\n<answer>It is \\boxed{7", stop: "<end_of_answer>", finishReason: "stop" as const }, "answer-without-box"],
    ])("returns a typed malformed result, never throws (%#)", (completion, reason) => {
        const step = parseStep(completion);
        expect(step.kind).toBe("malformed");
        expect(step.kind === "malformed" && step.reason).toBe(reason);
        expect(step.text).toBe(completion.text + (completion.stop ?? ""));
    });

    // The official unwrap (agents/utils.py:133-139): no "boxed" in the text means code, however the completion ended.
    it.each([
        [{ text: "\nx = 1 + ", stop: null, finishReason: "length" as const }, "code", "length", "x = 1 +"],
        [{ text: "\nx = 1\n", stop: null, finishReason: "stop" as const }, "code", "end-of-sequence", "x = 1"],
        [{ text: "<code>\nprint(1)\n<output>1", stop: "<end_of_output>", finishReason: "stop" as const }, "code", "end-of-output", "print(1)\n<output>1<end_of_output>"],
        [{ text: "<code>\nprint(1)\n<end_of_code>\n<output>1", stop: "<end_of_output>", finishReason: "stop" as const }, "last-code", "end-of-output", "print(1)"],
    ])("runs a completion without a step marker as code, saying how it ended (%#)", (completion, kind, unmarked, code) => {
        const step = parseStep(completion);
        expect(step).toEqual({ kind, text: completion.text + (completion.stop ?? ""), code, unmarked });
    });

    it("takes a completion without a step marker that has a complete \\boxed{} as an answer, cut off or not", () => {
        expect(parseStep({ text: "\nso \\boxed{7} and then", stop: null, finishReason: "length" })).toMatchObject({ kind: "answer", answer: "7" });
        expect(parseStep({ text: "\nso \\boxed{7", stop: null, finishReason: "length" })).toMatchObject({ kind: "malformed", reason: "answer-without-box" });
    });
});

describe("programs", () => {
    const trajectory = [
        "<code>\n# Step 1\na = 2\n<end_of_step>",
        "\n# Step 2\nb = a * 5\n<end_of_step>",
    ];

    it("runs the code of every step since the code block opened, in order", () => {
        expect(programForStep(trajectory, "\n# Now print the final answer\nprint(b)\n<end_of_code>")).toBe(
            "# Step 1\na = 2\n\n# Step 2\nb = a * 5\n\n# Now print the final answer\nprint(b)",
        );
    });

    it("starts after the last step that closed a code block", () => {
        const closed = closeCodeStep("\nprint(b)\n<end_of_code>", "10");
        expect(closed).toBe("\nprint(b)\n<end_of_code>\n<output>10<end_of_output>");
        const program = programForStep([...trajectory, closed], "<code>\nc = 1\n<end_of_step>");
        expect(program).toBe("c = 1");
    });

    it("adds <end_of_code> when a trajectory is cut inside a code block", () => {
        expect(closeCodeStep("\nz = 1/0\n<end_of_step>", "ZeroDivisionError: division by zero")).toBe(
            "\nz = 1/0\n<end_of_step><end_of_code>\n<output>ZeroDivisionError: division by zero<end_of_output>",
        );
        expect(outputSuffix("7")).toBe("\n<output>7<end_of_output>");
    });

    it("treats text without a <code> marker as all code, like the official fallback", () => {
        expect(extractCode("x = 1\n<end_of_step>")).toBe("x = 1");
    });

    it("keeps code written on the <code> line", () => {
        expect(extractCode("<code>x = 1\ny = 2\n<end_of_code>")).toBe("x = 1\ny = 2");
    });
});

describe("inferStepStop", () => {
    const stops = ["<end_of_step>", "<end_of_code>", "<end_of_answer>"];
    it("guesses the stop a server did not report from the step's content", async () => {
        const { inferStepStop } = await import("./index.js");
        expect(inferStepStop("\n<answer>It is \\boxed{4}", stops)).toBe("<end_of_answer>");
        expect(inferStepStop("\n# Now print the final answer\nprint(x)\n", stops)).toBe("<end_of_code>");
        expect(inferStepStop("\n# Step 2: add\ny = x + 1\n", stops)).toBe("<end_of_step>");
        expect(inferStepStop("\ny = 1\n", ["<end_of_code>"])).toBe("<end_of_code>");
    });
});
