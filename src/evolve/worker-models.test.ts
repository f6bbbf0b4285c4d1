import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { InputError, RstarError } from "../errors/index.js";
import { checkpointFiles, describeWorkerModels, readWorkerModels, startWorkerModels, verifyWorkerModels, type WorkerModels } from "./worker-models.js";

const work = mkdtempSync(join(tmpdir(), "rstar-worker-models-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const sha = (text: string) => createHash("sha256").update(text).digest("hex");

/** A trained-policy folder and a PPM folder as rstar evolve writes them (contents stand in for the real files). */
function checkpoints(name: string): { policy: string; ppm: string } {
    const policy = join(work, name, "policy");
    const ppm = join(work, name, "ppm");
    mkdirSync(policy, { recursive: true });
    mkdirSync(join(ppm, "trainer-checkpoint"), { recursive: true });
    writeFileSync(join(policy, "model.gguf"), "policy weights");
    writeFileSync(join(policy, "metrics.json"), "{}");
    writeFileSync(join(ppm, "model.gguf"), "ppm backbone");
    writeFileSync(join(ppm, "value_head.safetensors"), "value head");
    writeFileSync(join(ppm, "trainer-checkpoint", "optimizer.pt"), "not loaded");
    return { policy, ppm };
}

describe("worker models: what a distributed evolve round's workers serve", () => {
    it("hashes the files a worker loads: the policy's model.gguf and the PPM folder's files (not its subfolders)", async () => {
        const { policy, ppm } = checkpoints("hashes");
        const models = await describeWorkerModels({ policy: { endpoint: { kind: "embedded", threads: 1 }, checkpoint: policy }, reward: { endpoint: { kind: "embedded" }, ppm }, values: { round: "2" }, cwd: work });
        expect(models.files).toEqual([
            { path: join(policy, "model.gguf"), sha256: sha("policy weights") },
            { path: join(ppm, "model.gguf"), sha256: sha("ppm backbone") },
            { path: join(ppm, "value_head.safetensors"), sha256: sha("value head") },
        ]);
        await expect(verifyWorkerModels(models)).resolves.toBeUndefined();
        // A served PPM (vLLM pooling at a URL): only its value head is loaded here.
        expect(checkpointFiles({ policy: { endpoint: { kind: "teacher" }, checkpoint: null }, reward: { endpoint: { kind: "url", url: "http://10.0.0.7:8001/v1", model: "ppm", valueHead: "{ppm}/value_head.safetensors" }, ppm }, values: {} })).toEqual([join(ppm, "value_head.safetensors")]);
    });

    it("servers already running (url endpoints) start nothing: the worker searches with their URLs and the PPM's value head", async () => {
        const { ppm } = checkpoints("urls");
        const models = await describeWorkerModels({
            policy: { endpoint: { kind: "url", url: "http://10.0.0.7:8000/v1", model: "policy-r2" }, checkpoint: null },
            reward: { endpoint: { kind: "url", url: "http://10.0.0.7:8001/v1", model: "ppm-r2", valueHead: "{ppm}/value_head.safetensors" }, ppm },
            values: {},
            cwd: work,
        });
        const served = await startWorkerModels(models, { log: () => undefined });
        expect(served.policy).toEqual({ url: "http://10.0.0.7:8000/v1", model: "policy-r2" });
        expect(served.reward).toEqual({ rewardUrl: "http://10.0.0.7:8001/v1", rewardModel: "ppm-r2", valueHead: join(ppm, "value_head.safetensors") });
        await served.close();
    });

    it("a host whose checkpoint differs fails with the file, the expected and the actual sha256, and starts no server", async () => {
        const { policy } = checkpoints("mismatch");
        const marker = join(work, "mismatch", "server-started");
        const models = await describeWorkerModels({
            policy: { endpoint: { kind: "command", command: `touch ${marker}; sleep 30`, url: "http://127.0.0.1:{port}/v1", model: "policy", readyTimeoutS: 5 }, checkpoint: policy },
            reward: null,
            values: {},
            cwd: work,
        });
        const expected = sha("metrics");
        expect(models.files.find((file) => file.path === join(policy, "metrics.json"))?.sha256).toBe(sha("{}"));
        // This host's copy of the policy is another one (a stale copy, another round's file at the same path).
        writeFileSync(join(policy, "metrics.json"), "metrics");
        const error = await startWorkerModels(models, { log: () => undefined }).catch((caught: unknown) => caught);
        expect(RstarError.isInstance(error) && error.code).toBe("BACKEND_MODEL_NOT_FOUND");
        expect((error as Error).message).toContain(`checkpoint file ${join(policy, "metrics.json")} differs from the run's: expected sha256 ${sha("{}")}, this host has ${expected}`);
        expect(existsSync(marker)).toBe(false);
        // A file the run does not list, and a listed file this host lacks, are refused too.
        writeFileSync(join(policy, "metrics.json"), "{}");
        writeFileSync(join(policy, "extra.bin"), "x");
        await expect(verifyWorkerModels(models)).rejects.toThrow(`checkpoint file ${join(policy, "extra.bin")} on this host is not among the run's files`);
        rmSync(join(policy, "extra.bin"));
        rmSync(join(policy, "model.gguf"));
        await expect(verifyWorkerModels(models)).rejects.toThrow(`checkpoint file ${join(policy, "model.gguf")} does not exist on this host (expected sha256 ${sha("policy weights")})`);
    });

    it("reads a file with file and field named on errors, resolves its paths, and hashes when it lists no files", async () => {
        const { policy, ppm } = checkpoints("file");
        const file = join(work, "file", "worker-models.json");
        writeFileSync(file, JSON.stringify({ format: "rstar-worker-models/1", policy: { endpoint: { kind: "embedded" }, checkpoint: "policy" }, reward: { endpoint: { kind: "embedded" }, ppm: "ppm" } }));
        const models = await readWorkerModels(file);
        expect(models.policy.checkpoint).toBe(policy);
        expect(models.reward?.ppm).toBe(ppm);
        expect(models.cwd).toBe(join(work, "file"));
        expect(models.files.map((entry) => entry.path)).toEqual([join(policy, "model.gguf"), join(ppm, "model.gguf"), join(ppm, "value_head.safetensors")]);
        writeFileSync(file, JSON.stringify({ format: "rstar-worker-models/1", policy: { endpoint: { kind: "vllm" }, checkpoint: null }, reward: null }));
        const error = await readWorkerModels(file).catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(InputError);
        expect((error as InputError).file).toBe(file);
        expect((error as InputError).field).toBe("policy.endpoint.kind");
        writeFileSync(file, JSON.stringify({ format: "rstar-worker-models/1", policy: { endpoint: { kind: "teacher" }, checkpoint: null }, reward: null, files: [{ path: "a", sha256: "xyz" }] }));
        await expect(readWorkerModels(file)).rejects.toThrow(/field "files\.0\.sha256"/);
    });

    it("starts a command template's server on this host with a free {port} and {policy} filled in, and stops its process group", async () => {
        const { policy } = checkpoints("serve");
        // A real HTTP server (python's http.server) that answers GET /v1/models from a folder, started by the template.
        const site = join(work, "serve", "site");
        mkdirSync(join(site, "v1"), { recursive: true });
        writeFileSync(join(site, "v1", "models"), JSON.stringify({ data: [{ id: "policy" }] }));
        const models: WorkerModels = await describeWorkerModels({
            policy: { endpoint: { kind: "command", command: `test -f {policy}/model.gguf && exec python3 -m http.server {port} --bind 127.0.0.1 --directory ${site}`, url: "http://127.0.0.1:{port}/v1", model: "policy", readyTimeoutS: 30 }, checkpoint: policy },
            reward: null,
            values: {},
            cwd: work,
        });
        const lines: string[] = [];
        const served = await startWorkerModels(models, { log: (line) => lines.push(line) });
        expect(served.policy).toEqual({ url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/v1$/), model: "policy" });
        expect(served.reward).toBeNull();
        const response = await fetch(`${served.policy.url}/models`);
        expect(response.status).toBe(200);
        await served.close();
        await expect(fetch(`${served.policy.url}/models`, { signal: AbortSignal.timeout(2000) })).rejects.toThrow();
    });
});
