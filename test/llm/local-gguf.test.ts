/**
 * Any GGUF as the policy, in-process: `--policy FILE.gguf` for search, solve, eval and serve (against the shipped
 * policy copied elsewhere: results must equal the shipped default's with the same settings), --gpu, the memory
 * checks (a model larger than an imposed RSTAR_MAX_RAM fails with INSUFFICIENT_MEMORY, exit 3), and the bootstrap
 * prompt through the GGUF's own chat template (a tiny GGUF written by train/gguf_writer.py with a Qwen-style
 * `tokenizer.chat_template`). Needs `npm run build` (the commands run from dist/) and /usr/bin/python3 with numpy.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LlamaCppBackend, formatBytes } from "../../src/llm/index.js";
import { presetNamed, type SearchSettings } from "../../src/search/index.js";
import { STEP_STOPS, bootstrapPrompt, chatPromptFormatter } from "../../src/steps/index.js";
import { runRstar } from "../support/cli.js";
import { runOutputs } from "../support/run-files.js";
import { SHIPPED_POLICY, SHIPPED_PPM_DIR } from "../support/shipped-models.js";

const root = join(import.meta.dirname, "..", "..");
const work = mkdtempSync(join(tmpdir(), "rstar-local-gguf-"));
const copy = join(work, "elsewhere", "my-policy.gguf");
const chatGguf = join(work, "qwen-style-chat.gguf");
const TEMPLATE = readFileSync(join(root, "test", "fixtures", "llm", "qwen-style-chat-template.jinja"), "utf8");
/** The model's size as the placement line and memory errors print it (node-llama-cpp's measure of its weights). */
let SIZE = "";
const QUESTION = "Aisha has $92. Aisha buys 3 movie tickets at $7 each. How much money does Aisha have left?";

/** Every search setting, written out: the shipped policy's stepwise greedy (as `rstar solve` defaults to it). */
const STEPWISE: SearchSettings = { ...presetNamed("greedy").settings, stop: [...STEP_STOPS], maxDepth: 16, maxTokens: 256, prompt: "sft" };

beforeAll(async () => {
    spawnSync("mkdir", ["-p", join(work, "elsewhere")]);
    copyFileSync(SHIPPED_POLICY, copy);
    const written = spawnSync("/usr/bin/python3", [join(root, "train", "gguf_writer.py"), SHIPPED_POLICY, chatGguf, "--set-file", `tokenizer.chat_template=${join(root, "test", "fixtures", "llm", "qwen-style-chat-template.jinja")}`], {
        encoding: "utf8",
    });
    expect(written.status, written.stderr).toBe(0);
    writeFileSync(join(work, "stepwise.json"), JSON.stringify(STEPWISE));
    const probe = new LlamaCppBackend({ modelPath: copy, threads: 1, sequences: 1 });
    try {
        SIZE = formatBytes((await probe.describe()).sizeBytes);
    } finally {
        await probe.dispose();
    }
    writeFileSync(join(work, "problems.jsonl"), readFileSync(join(root, "models", "heldout", "test.jsonl"), "utf8").split("\n").slice(0, 2).join("\n") + "\n");
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

const withoutTimes = (value: unknown): unknown => JSON.parse(JSON.stringify(value, (key, inner: unknown) => (/^(durationMs|duration_ms|wall_seconds|seconds_per_problem|seconds)$/.test(key) ? undefined : inner)));

describe("--policy FILE.gguf (the shipped policy copied elsewhere)", () => {
    it("rstar solve: the same trajectory and answer as the shipped default with the same settings, and the model's placement on stderr", async () => {
        const config = join(work, "stepwise.json");
        const shipped = await runRstar(["solve", QUESTION, "--config", config, "--json"]);
        const local = await runRstar(["solve", QUESTION, "--config", config, "--json", "--policy", copy, "--gpu", "off"]);
        expect(shipped.code, shipped.stderr).toBe(0);
        expect(local.code, local.stderr).toBe(0);
        expect(withoutTimes(JSON.parse(local.stdout))).toEqual(withoutTimes(JSON.parse(shipped.stdout)));
        expect(local.stderr).toContain(`policy ${copy} (${SIZE}): CPU only; context 1024 tokens, batch 512,`);
        expect(local.stderr).toMatch(/\d+ parallel sequence\(s\), \d+ thread\(s\); chat template: none; prompt sft/);
    }, 120_000);

    it("--ppm DIR with its own backbone file (value_head.json base_model): the same values as the shipped PPM", async () => {
        const dir = join(work, "my-ppm");
        spawnSync("mkdir", ["-p", dir]);
        copyFileSync(join(SHIPPED_PPM_DIR, "model.gguf"), join(dir, "backbone.gguf"));
        copyFileSync(join(SHIPPED_PPM_DIR, "value_head.safetensors"), join(dir, "value_head.safetensors"));
        const manifest = JSON.parse(readFileSync(join(SHIPPED_PPM_DIR, "value_head.json"), "utf8")) as Record<string, unknown>;
        writeFileSync(join(dir, "value_head.json"), JSON.stringify({ ...manifest, base_model: "backbone.gguf" }));
        const config = join(work, "stepwise-leaf-value.json");
        writeFileSync(config, JSON.stringify({ ...STEPWISE, leafValue: true }));
        const shipped = await runRstar(["solve", QUESTION, "--config", config, "--json"]);
        const local = await runRstar(["solve", QUESTION, "--config", config, "--json", "--policy", copy, "--ppm", dir, "--gpu", "off"]);
        expect(shipped.code, shipped.stderr).toBe(0);
        expect(local.code, local.stderr).toBe(0);
        const a = JSON.parse(shipped.stdout) as { value: number; counters: { rewardCalls: number } };
        expect(a.counters.rewardCalls).toBeGreaterThan(0);
        expect(withoutTimes(JSON.parse(local.stdout))).toEqual(withoutTimes(a));
    }, 120_000);

    it("rstar search: the same trees and results as the shipped default", async () => {
        const args = ["search", "--dataset", join(work, "problems.jsonl"), "--config", join(work, "stepwise.json"), "--concurrency", "1", "--quiet", "--json"];
        const shipped = await runRstar([...args, "--out", join(work, "search-shipped")]);
        const local = await runRstar([...args, "--out", join(work, "search-local"), "--policy", copy]);
        expect(shipped.code, shipped.stderr).toBe(0);
        expect(local.code, local.stderr).toBe(0);
        const a = runOutputs(join(work, "search-shipped"));
        const b = runOutputs(join(work, "search-local"));
        expect(b.results).toHaveLength(2);
        expect(b.results).toEqual(a.results);
        expect(withoutTimes(b.trees)).toEqual(withoutTimes(a.trees));
        // --resume takes the policy from the run's config.json
        const config = JSON.parse(readFileSync(join(work, "search-local", "config.json"), "utf8")) as { invocation: Record<string, unknown> };
        expect(config.invocation["policy"]).toBe(copy);
    }, 240_000);

    it("rstar eval: the same graded results as the shipped default", async () => {
        const args = ["eval", "--dataset", join(work, "problems.jsonl"), "--method", "greedy", "--config", join(work, "stepwise.json"), "--quiet", "--json"];
        const shipped = await runRstar([...args, "--out", join(work, "eval-shipped")]);
        const local = await runRstar([...args, "--out", join(work, "eval-local"), "--policy", copy]);
        expect(shipped.code, shipped.stderr).toBe(0);
        expect(local.code, local.stderr).toBe(0);
        const summary = (text: string) => {
            const { out: _out, dataset: _dataset, policy, ...rest } = withoutTimes(JSON.parse(text)) as Record<string, unknown>;
            return { ...rest, policy: String(policy).replace(copy, SHIPPED_POLICY) };
        };
        expect(summary(local.stdout)).toEqual(summary(shipped.stdout));
        expect((JSON.parse(local.stdout) as { problems: number }).problems).toBe(2);
    }, 240_000);

    it("rstar serve --policy: prints the placement and contexts, serves the model", async () => {
        const { spawnRstar, firstLine } = await import("../support/cli.js");
        const child = spawnRstar(["serve", "--policy", copy, "--port", "0", "--gpu", "off", "--threads", "1", "--no-store"]);
        let stderr = "";
        child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
        try {
            const url = await firstLine(child);
            const models = (await (await fetch(`${url}/models`)).json()) as { data: { id: string }[] };
            expect(models.data.map((model) => model.id)).toContain("my-policy");
            expect(stderr).toContain(`policy ${copy} (${SIZE}): CPU only; context 1024 tokens`);
        } finally {
            child.kill("SIGTERM");
            await new Promise((resolve) => child.once("exit", resolve));
        }
    }, 60_000);

    it("refuses --policy with --policy-url (exit 2), a missing file (exit 2), and a GPU API with no usable prebuild (exit 3)", async () => {
        const both = await runRstar(["solve", QUESTION, "--policy", copy, "--policy-url", "http://127.0.0.1:9/v1", "--model", "m"]);
        expect(both.code).toBe(2);
        expect(both.stderr).toContain("--policy FILE.gguf (in-process) or --policy-url URL (a server), not both");
        const missing = await runRstar(["solve", QUESTION, "--policy", join(work, "nope.gguf")]);
        expect(missing.code).toBe(2);
        expect(missing.stderr).toContain(`${join(work, "nope.gguf")}: no such GGUF model file`);
        const bad = await runRstar(["solve", QUESTION, "--policy", copy, "--gpu", "tpu"]);
        expect(bad.code).toBe(2);
        expect(bad.stderr).toContain("option '--gpu <api>' argument 'tpu' is invalid");
        if (process.platform !== "darwin") {
            const metal = await runRstar(["solve", QUESTION, "--policy", copy, "--gpu", "metal"]);
            expect(metal.code).toBe(3);
            expect(metal.stderr).toContain("rstar solve: cannot start llama.cpp with --gpu metal");
        }
    }, 60_000);
});

describe("memory safety", () => {
    it("a model larger than the RAM it may use fails before loading: INSUFFICIENT_MEMORY naming the model, its size and what was free (exit 3)", async () => {
        const result = spawnSync(process.execPath, [join(root, "bin", "rstar.js"), "solve", QUESTION, "--policy", copy, "--gpu", "off"], {
            encoding: "utf8",
            env: { ...process.env, RSTAR_MAX_RAM: "100KiB" },
        });
        expect(result.status).toBe(3);
        expect(result.stderr).toContain(`rstar solve: ${copy}: the model (${SIZE}) needs ${SIZE} of RAM; RAM 100.0 KiB free (RSTAR_MAX_RAM 100.0 KiB). Nothing was loaded`);
    }, 60_000);

    it("contexts that do not fit next to the model fail with INSUFFICIENT_MEMORY too, and the model is released", async () => {
        const child = spawnSync(
            process.execPath,
            [
                "--import",
                "tsx",
                "-e",
                `import { LlamaCppBackend } from "./src/llm/index.ts";
                 const backend = new LlamaCppBackend({ modelPath: ${JSON.stringify(copy)}, threads: 1, sequences: 1, contextSize: 1024 });
                 try { await backend.load(); console.log("loaded"); } catch (error) { console.log(JSON.stringify({ code: error.code, message: error.message, details: error.details })); }
                 await backend.dispose();`,
            ],
            { cwd: root, encoding: "utf8", env: { ...process.env, RSTAR_MAX_RAM: "2500KiB" } },
        );
        expect(child.status, child.stderr).toBe(0);
        const outcome = JSON.parse(child.stdout.trim()) as { code: string; message: string; details: Record<string, unknown> };
        expect(outcome.code).toBe("INSUFFICIENT_MEMORY");
        expect(outcome.message).toContain(`${copy}: the model (${SIZE}) with 1 context(s) of 1024 tokens`);
        expect(outcome.message).toContain("RAM 2.4 MiB free (RSTAR_MAX_RAM 2.4 MiB)");
        expect(outcome.details).toMatchObject({ file: copy, freeRam: 2_560_000, ramCap: 2_560_000 });
    }, 60_000);

    it("the default parallel sequences are as many as fit: 1 under a cap that holds the model and one context; asking for 2 fails", () => {
        const run = (sequences: string) =>
            spawnSync(
                process.execPath,
                [
                    "--import",
                    "tsx",
                    "-e",
                    `import { LlamaCppBackend } from "./src/llm/index.ts";
                     const backend = new LlamaCppBackend({ modelPath: ${JSON.stringify(copy)}, threads: 1, contextSize: 1024${sequences === "" ? "" : `, sequences: ${sequences}`} });
                     try { console.log(JSON.stringify({ sequences: (await backend.describe()).sequences })); } catch (error) { console.log(JSON.stringify({ code: error.code })); }
                     await backend.dispose();`,
                ],
                { cwd: root, encoding: "utf8", env: { ...process.env, RSTAR_MAX_RAM: "5MiB" } },
            );
        const fitted = run("");
        expect(fitted.status, fitted.stderr).toBe(0);
        expect(JSON.parse(fitted.stdout.trim())).toEqual({ sequences: 1 });
        const asked = run("2");
        expect(JSON.parse(asked.stdout.trim())).toEqual({ code: "INSUFFICIENT_MEMORY" });
    }, 60_000);
});

describe("chat template from the GGUF metadata", () => {
    it("renders the bootstrap prompt through a Qwen-style tokenizer.chat_template: question in the user turn, partial solution as the open assistant turn", async () => {
        const backend = new LlamaCppBackend({ modelPath: chatGguf, threads: 1, sequences: 1 });
        try {
            const info = await backend.describe();
            expect(info.chatTemplate).toBe(TEMPLATE);
            const render = await backend.chatRenderer();
            expect(render).not.toBeNull();
            const format = chatPromptFormatter(render!);
            const partial = "<code>\n# Step 1: start from 92\nmoney = 92\n<end_of_step>\n";
            expect(format("bootstrap", "What is 2 + 3?", partial)).toBe(
                "<|im_start|>system\nPlease reason step by step, and put your final answer within \\boxed{}.<|im_end|>\n" +
                    `<|im_start|>user\n${bootstrapPrompt("What is 2 + 3?").trimEnd()}<|im_end|>\n` +
                    `<|im_start|>assistant\n${partial}`,
            );
            // the SFT template stays raw: rStar-trained policies saw it that way
            expect(format("sft", "What is 2 + 3?", partial)).toBe(`<|user|>:\nWhat is 2 + 3?\n<|assistant|>: Let's think step by step and solve the problem with code.${partial}`);
        } finally {
            await backend.dispose();
        }
        const plain = new LlamaCppBackend({ modelPath: copy, threads: 1, sequences: 1 });
        try {
            expect(await plain.chatRenderer()).toBeNull();
        } finally {
            await plain.dispose();
        }
    }, 60_000);

    it("rstar solve --policy sends the templated bootstrap prompt (its token count), and --no-chat-template the raw one", async () => {
        const question = "What is 2 + 3?";
        const args = ["solve", question, "--policy", chatGguf, "--gpu", "off", "--preset", "greedy", "--prompt", "bootstrap", "--max-depth", "1", "--max-tokens", "8", "--json"];
        const chat = await runRstar(args);
        const raw = await runRstar([...args, "--no-chat-template"]);
        expect(chat.stderr).toContain("chat template: yes; prompt bootstrap through the model's chat template");
        expect(raw.stderr).toContain("chat template: yes; prompt bootstrap (raw)");
        const backend = new LlamaCppBackend({ modelPath: chatGguf, threads: 1, sequences: 1 });
        let expected: { chat: number; raw: number };
        try {
            const format = chatPromptFormatter((await backend.chatRenderer())!);
            const tokens = async (prompt: string) => (await backend.generate({ prompt, n: 1, temperature: 0, topP: 1, maxTokens: 1, stop: [] })).usage!.promptTokens;
            expected = { chat: await tokens(format("bootstrap", question, "")), raw: await tokens(bootstrapPrompt(question)) };
        } finally {
            await backend.dispose();
        }
        expect(expected.chat).toBeGreaterThan(expected.raw);
        const counters = (text: string) => (JSON.parse(text) as { counters: { requests: number; promptTokens: number } }).counters;
        expect(chat.code, chat.stderr).not.toBe(2);
        expect(counters(chat.stdout)).toMatchObject({ requests: 1, promptTokens: expected.chat });
        expect(counters(raw.stdout)).toMatchObject({ requests: 1, promptTokens: expected.raw });
    }, 120_000);
});
