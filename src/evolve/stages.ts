import { existsSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { RstarError } from "../errors/index.js";
import { PRESETS } from "../search/index.js";
import { TEACHER_ERROR_FLAGS, TEACHER_ERROR_KINDS, type DatasetOptions } from "../synth/index.js";
import { baselineAfterRound, parseStepRange, configPath, evaluatesAfterRound, fillTemplate, type Endpoint, type EvolveConfig, type LoadedConfig, type Placeholder, type RewardEndpoint, type RoundConfig, type Trainer } from "./config.js";
import { shellQuote, type StageCommand } from "./process.js";

/**
 * The stages of a self-evolution run and the command each one runs. Pure: nothing here touches processes; the
 * orchestrator (run-evolve.ts) and the dry run both build their commands from these functions.
 */

export interface EvolvePaths {
    dir: string;
    data: { train: string; test: string | null; ood: string | null };
    round(n: number): RoundPaths;
}

export interface RoundPaths {
    dir: string;
    state: string;
    report: string;
    problems: string;
    search: string;
    /** Problems and run directory of the k-th extra pass over unsolved problems (k from 1). */
    moreProblems(k: number): string;
    more(k: number): string;
    sft: string;
    /** The policy's training records when earlier rounds' are mixed in (sft.earlierRecords "all", from round 2). */
    sftMix: string;
    pairs: string;
    /** The PPM's training pairs when other pairs are mixed in (ppm.earlierPairs "all", ppm.policySamples). */
    ppmPairs: string;
    /** ppm.policySamples: the train problems sampled, the best-of-N run, and the pairs extracted from it. */
    policySampleProblems: string;
    policySamples: string;
    policySamplePairs: string;
    /** ppm.misreadPretrain: its training and held-out pairs, and the pretrained PPM the round's PPM continues from. */
    misreadPairs: string;
    misreadHeldOut: string;
    misreadPpm: string;
    policy: string;
    ppm: string;
    eval(split: string, method: string): string;
    /** `--queue`: the models the workers serve for the round's searches ("search") or its evaluations ("eval"). */
    workerModels(kind: "search" | "eval" | "baseline"): string;
}

export function evolvePaths(loaded: LoadedConfig, dir: string): EvolvePaths {
    const data = loaded.config.data;
    const dataPaths =
        "synth" in data
            ? { train: join(dir, "data", "train.jsonl"), test: join(dir, "data", "test.jsonl"), ood: join(dir, "data", "ood.jsonl") }
            : { train: configPath(loaded, data.train), test: data.test === undefined ? null : configPath(loaded, data.test), ood: data.ood === undefined ? null : configPath(loaded, data.ood) };
    return {
        dir,
        data: dataPaths,
        round(n) {
            const r = join(dir, `round-${n}`);
            return {
                dir: r,
                state: join(r, "state.json"),
                report: join(r, "report.json"),
                problems: join(r, "problems.jsonl"),
                search: join(r, "search"),
                moreProblems: (k) => join(r, `problems-unsolved-${k}.jsonl`),
                more: (k) => join(r, `search-unsolved-${k}`),
                sft: join(r, "sft.jsonl"),
                sftMix: join(r, "sft-mix.jsonl"),
                pairs: join(r, "pairs.jsonl"),
                ppmPairs: join(r, "ppm-pairs.jsonl"),
                policySampleProblems: join(r, "policy-sample-problems.jsonl"),
                policySamples: join(r, "policy-samples"),
                policySamplePairs: join(r, "policy-sample-pairs.jsonl"),
                misreadPairs: join(r, "misread-pairs.jsonl"),
                misreadHeldOut: join(r, "misread-heldout.jsonl"),
                misreadPpm: join(r, "ppm-misreads"),
                policy: join(r, "policy"),
                ppm: join(r, "ppm"),
                eval: (split, method) => join(r, "eval", `${split}-${method.replace("@", "-at-")}`),
                workerModels: (kind) => join(r, `worker-models-${kind}.json`),
            };
        },
    };
}

export type StageKind = "data" | "sample" | "search" | "search-unsolved" | "policy-samples" | "extract-sft" | "extract-ppm" | "extract-policy-samples" | "train-sft" | "misread-pairs" | "pretrain-ppm" | "train-ppm" | "eval" | "report";

export interface StagePlan {
    name: string;
    kind: StageKind;
    /** For search-unsolved: which pass (1-based); for eval: split and method. */
    pass?: number;
    rollouts?: number;
    split?: string;
    method?: string;
    /** eval: the bootstrap policy of round 1 instead of the round's (eval.baseline). */
    baseline?: boolean;
}

/** Stages of one round, in order. */
export function roundStages(config: EvolveConfig, n: number, paths: EvolvePaths): StagePlan[] {
    const round = config.rounds[n - 1] as RoundConfig;
    const stages: StagePlan[] = [{ name: "sample", kind: "sample" }, { name: "search", kind: "search", rollouts: round.search.rollouts }];
    round.search.unsolvedRollouts.forEach((rollouts, i) => stages.push({ name: `search-unsolved-${i + 1}`, kind: "search-unsolved", pass: i + 1, rollouts }));
    // Right after the searches, so that the policy server they started serves the sampling too.
    const sampling = round.ppm.policySamples ?? null;
    if (sampling !== null) stages.push({ name: "policy-samples", kind: "policy-samples" });
    stages.push({ name: "extract-sft", kind: "extract-sft" }, { name: "extract-ppm", kind: "extract-ppm" });
    if (sampling !== null) stages.push({ name: "extract-policy-samples", kind: "extract-policy-samples" });
    stages.push({ name: "train-sft", kind: "train-sft" });
    // After train-sft: the pretraining starts from this round's policy.
    if ((round.ppm.misreadPretrain ?? null) !== null) stages.push({ name: "misread-pairs", kind: "misread-pairs" }, { name: "pretrain-ppm", kind: "pretrain-ppm" });
    stages.push({ name: "train-ppm", kind: "train-ppm" });
    for (const split of config.eval.splits) {
        if (paths.data[split] === null) continue;
        for (const method of config.eval.methods) {
            if (evaluatesAfterRound(config, n, method)) stages.push({ name: `eval-${split}-${method}`, kind: "eval", split, method });
        }
    }
    const baseline = config.eval.baseline;
    if (baseline && baselineAfterRound(config, n)) {
        for (const split of baseline.splits) {
            if (paths.data[split] === null) continue;
            for (const method of baseline.methods) stages.push({ name: `eval-${split}-baseline-${method}`, kind: "eval", split, method, baseline: true });
        }
    }
    stages.push({ name: "report", kind: "report" });
    return stages;
}

/** A server a stage needs: how to start it (null: already running at `url`), where it answers, the model name. */
export interface ServerSpec {
    role: "policy" | "reward";
    start: { command: StageCommand; readyTimeoutMs: number } | null;
    /** May contain {port} until a port is picked. */
    url: string;
    model: string;
    /** Reward servers: the value head file (PPM backbone on a pooling server). */
    valueHead?: string;
}

export const EMBEDDED_POLICY_MODEL = "policy";
const TEACHER_MODEL = "rstar-synth-teacher";

/** `rstar teacher serve` flags for a teacher endpoint's error settings (`repeatFact` → `--repeat-fact`). */
function teacherRateArgs(endpoint: Extract<Endpoint, { kind: "teacher" }>): string[] {
    const rates = endpoint.errorRates ?? {};
    const args = TEACHER_ERROR_KINDS.flatMap((kind) => (rates[kind] === undefined ? [] : [`--${TEACHER_ERROR_FLAGS[kind]}`, String(rates[kind])]));
    return endpoint.errorScale === undefined ? args : [...args, "--error-scale", String(endpoint.errorScale)];
}

/** The policy server for an endpoint serving `checkpoint` (a trained policy directory; null for round 1). */
export function policyServer(endpoint: Endpoint, checkpoint: string | null, values: Partial<Record<Placeholder, string>>, where: string): ServerSpec {
    switch (endpoint.kind) {
        case "url":
            return { role: "policy", start: null, url: endpoint.url, model: endpoint.model };
        case "teacher":
            return {
                role: "policy",
                start: { command: { kind: "rstar", args: ["teacher", "serve", "--port", "{port}", ...teacherRateArgs(endpoint)] }, readyTimeoutMs: 60_000 },
                url: "http://127.0.0.1:{port}/v1",
                model: TEACHER_MODEL,
            };
        case "gguf":
        case "embedded": {
            if (endpoint.kind === "embedded" && checkpoint === null) throw new RstarError("CONFIG_INVALID", `${where}: an embedded policy needs a trained checkpoint`);
            const gguf = endpoint.kind === "gguf" ? endpoint.path : join(checkpoint as string, "model.gguf");
            const args = ["serve", "--policy", gguf, "--port", "{port}", "--model-name", EMBEDDED_POLICY_MODEL];
            if (endpoint.threads !== undefined) args.push("--threads", String(endpoint.threads));
            if (endpoint.sequences !== undefined) args.push("--sequences", String(endpoint.sequences));
            if (endpoint.gpu !== undefined) args.push("--gpu", endpoint.gpu);
            if (endpoint.gpuLayers !== undefined) args.push("--gpu-layers", String(endpoint.gpuLayers));
            return { role: "policy", start: { command: { kind: "rstar", args }, readyTimeoutMs: 120_000 }, url: "http://127.0.0.1:{port}/v1", model: EMBEDDED_POLICY_MODEL };
        }
        case "command": {
            const filled = { ...values, ...(checkpoint === null ? {} : { policy: shellQuote(checkpoint) }), port: "{port}" };
            return {
                role: "policy",
                start: { command: { kind: "shell", command: fillTemplate(endpoint.command, filled, `${where}.command`) }, readyTimeoutMs: endpoint.readyTimeoutS * 1000 },
                url: fillTemplate(endpoint.url, { ...filled, ...(checkpoint === null ? {} : { policy: checkpoint }) }, `${where}.url`),
                model: endpoint.model,
            };
        }
    }
}

/**
 * The reward model for a PPM checkpoint: flags for `rstar search`/`rstar eval`, a server when one is started, and for a
 * pooling server its URL (null: the started server's), model name and value head.
 */
export function rewardFlags(
    endpoint: RewardEndpoint,
    ppm: string,
    values: Partial<Record<Placeholder, string>>,
    where: string,
): { server: ServerSpec | null; flags: (url: string) => string[]; pooling: { url: string | null; model: string; valueHead: string } | null } {
    switch (endpoint.kind) {
        case "embedded":
            return { server: null, flags: () => ["--ppm", ppm], pooling: null };
        case "url": {
            const head = fillTemplate(endpoint.valueHead, { ...values, ppm }, `${where}.valueHead`);
            return { server: null, flags: () => ["--reward-url", endpoint.url, "--reward-model", endpoint.model, "--value-head", head], pooling: { url: endpoint.url, model: endpoint.model, valueHead: head } };
        }
        case "command": {
            const filled = { ...values, ppm: shellQuote(ppm), port: "{port}" };
            const head = fillTemplate(endpoint.valueHead, { ...values, ppm }, `${where}.valueHead`);
            const server: ServerSpec = {
                role: "reward",
                start: { command: { kind: "shell", command: fillTemplate(endpoint.command, filled, `${where}.command`) }, readyTimeoutMs: endpoint.readyTimeoutS * 1000 },
                url: fillTemplate(endpoint.url, { ...values, ppm, port: "{port}" }, `${where}.url`),
                model: endpoint.model,
                valueHead: head,
            };
            return { server, flags: (url) => ["--reward-url", url, "--reward-model", endpoint.model, "--value-head", head], pooling: { url: null, model: endpoint.model, valueHead: head } };
        }
    }
}

/** The models a round's searches use (`--queue`: what its workers serve): the round's policy endpoint with the previous round's checkpoint, and the previous PPM under PPM guidance. */
export function searchModels(config: EvolveConfig, n: number, previous: { policy: string | null; ppm: string | null }): { policy: { endpoint: Endpoint; checkpoint: string | null }; reward: { endpoint: RewardEndpoint; ppm: string } | null } {
    const round = config.rounds[n - 1] as RoundConfig;
    return { policy: { endpoint: round.policy, checkpoint: previous.policy }, reward: round.search.guidance === "ppm" && previous.ppm !== null ? { endpoint: config.serve.reward, ppm: previous.ppm } : null };
}

/** The models round n's evaluations use: `serve.policy` with the round's policy, and its PPM when one of the round's evaluation methods needs one (one set for every method, so the workers' servers last across the evaluation stages). */
export function evalModels(config: EvolveConfig, n: number, policy: string, ppm: string | null): { policy: { endpoint: Endpoint; checkpoint: string | null }; reward: { endpoint: RewardEndpoint; ppm: string } | null } {
    const needsReward = config.eval.methods.some((method) => methodNeedsReward(method) && evaluatesAfterRound(config, n, method));
    const reward = ppm !== null && needsReward ? { endpoint: config.serve.reward, ppm } : null;
    return { policy: { endpoint: config.serve.policy, checkpoint: policy }, reward };
}

/** The policy server of an evaluation stage, and the name of its run under round-N/eval/: the round's policy, or (eval.baseline) round 1's bootstrap policy. */
export function evalTarget(config: EvolveConfig, plan: StagePlan, policyDir: string, values: Partial<Record<Placeholder, string>>): { policy: ServerSpec; run: string } {
    const method = plan.method as string;
    if (plan.baseline) return { policy: policyServer((config.rounds[0] as RoundConfig).policy, null, values, "rounds.0.policy"), run: `baseline-${method}` };
    return { policy: policyServer(config.serve.policy, policyDir, values, "serve.policy"), run: method };
}

/** The models eval.baseline uses after round n: round 1's bootstrap policy, and the round's PPM when a baseline method needs one. */
export function baselineModels(config: EvolveConfig, ppm: string | null): { policy: { endpoint: Endpoint; checkpoint: string | null }; reward: { endpoint: RewardEndpoint; ppm: string } | null } {
    const needsReward = (config.eval.baseline?.methods ?? []).some(methodNeedsReward);
    return { policy: { endpoint: (config.rounds[0] as RoundConfig).policy, checkpoint: null }, reward: ppm !== null && needsReward ? { endpoint: config.serve.reward, ppm } : null };
}

/** Methods of `rstar eval` that score with the reward model. */
export function methodNeedsReward(method: string): boolean {
    return method === "mcts" || method === "beam" || method.startsWith("bon@");
}

export function searchSeed(config: EvolveConfig, n: number, pass: number): number {
    return config.seed * 1000 + n * 10 + pass;
}

/**
 * `rstar evolve --queue`: a search or evaluation stage enqueues its problems in Redis at `url` for `rstar worker`s,
 * which serve the models of the `workerModels` file (no server flags go to the coordinator).
 */
export interface QueueTarget {
    url: string;
    workerModels: string;
}

/** The server flags of a search or evaluation: the policy server's URL, or with --queue the queue and worker models. */
function serverArgs(policy: { url: string; model: string }, queue: QueueTarget | undefined): string[] {
    return queue === undefined ? ["--policy-url", policy.url, "--model", policy.model] : ["--queue", queue.url, "--worker-models", queue.workerModels, "--model", policy.model];
}

export function searchArgs(config: EvolveConfig, n: number, pass: number, problems: string, out: string, rollouts: number, policy: { url: string; model: string }, reward: string[] | null, resume: boolean, queue?: QueueTarget): string[] {
    const round = config.rounds[n - 1] as RoundConfig;
    const args = ["search", "--dataset", problems, "--out", out, "--preset", round.search.preset, "--rollouts", String(rollouts), "--seed", String(searchSeed(config, n, pass))];
    args.push("--concurrency", String(round.search.concurrency), ...serverArgs(policy, queue));
    if (round.search.guidance === "terminal") args.push("--terminal-reward", "ground-truth", "--no-leaf-value");
    else args.push("--terminal-reward", "ground-truth", "--leaf-value", ...(reward ?? []));
    args.push(...round.search.args, "--json");
    if (resume) args.push("--resume");
    return args;
}

/** The seed of round n's best-of-N sampling run (ppm.policySamples); apart from its MCTS passes' seeds. */
export function policySamplesSeed(config: EvolveConfig, n: number): number {
    return config.seed * 1000 + 500 + n;
}

/**
 * `rstar search` for ppm.policySamples: best-of-N with the round's search policy, the gold answer as terminal reward
 * (no reward model: the pairs' labels come from the answers), the prompt of the round's search preset (few-shot for a
 * bootstrap model, SFT for a trained policy), the round's search concurrency, then the sampling's args.
 */
export function policySamplesArgs(config: EvolveConfig, n: number, problems: string, out: string, policy: { url: string; model: string }, resume: boolean, queue?: QueueTarget): string[] {
    const round = config.rounds[n - 1] as RoundConfig;
    const sampling = round.ppm.policySamples;
    if (sampling === null || sampling === undefined) throw new RstarError("INTERNAL", `round ${n} has no ppm.policySamples`);
    const args = ["search", "--dataset", problems, "--out", out, "--preset", "best-of-n", "--samples", String(sampling.samples), "--seed", String(policySamplesSeed(config, n))];
    const prompt = PRESETS[round.search.preset]?.settings.prompt;
    if (prompt !== undefined) args.push("--prompt", prompt);
    args.push("--concurrency", String(round.search.concurrency), ...serverArgs(policy, queue), "--terminal-reward", "ground-truth", "--no-leaf-value", ...sampling.args, "--json");
    if (resume) args.push("--resume");
    return args;
}

export function extractArgs(config: EvolveConfig, n: number, kind: "sft" | "ppm", trees: string[], out: string): string[] {
    const round = config.rounds[n - 1] as RoundConfig;
    if (kind === "sft") return ["extract", "sft", "--trees", ...trees, "--out", out, "--per-problem", String(round.sft.perProblem), "--format", round.sft.format, "--json", "--quiet"];
    const ppm = round.ppm;
    return ["extract", "ppm", "--trees", ...trees, "--out", out, "--format", ppm.format, "--min-margin", String(ppm.minMargin), "--min-edit-distance", String(ppm.minEditDistance), "--label", ppm.label, "--final-pairs", ppm.finalPairs, "--json", "--quiet"];
}

/** The SFT stage's command: `rstar train sft` or the user's template with {data} {out} {init} … filled in. */
export function trainSftCommand(trainer: Trainer, values: { round: number; seed: number; dir: string; data: string; out: string; init: string | null; test: string | null }, where: string): StageCommand {
    if (trainer.kind === "rstar") {
        const args = ["train", "sft", "--data", values.data, "--out", values.out, "--seed", String(values.seed)];
        if (values.init !== null) args.push("--init", values.init);
        return { kind: "rstar", args: [...args, ...trainer.args, "--json"] };
    }
    return { kind: "shell", command: fillTemplate(trainer.command, quoted({ round: String(values.round), seed: String(values.seed), dir: values.dir, data: values.data, out: values.out, init: values.init ?? "", ...(values.test === null ? {} : { test: values.test }) }), where) };
}

/** The records file round n's policy trains on: its own SFT records, or (sft.earlierRecords "all" after round 1) the mix. */
export function sftTrainingRecords(config: EvolveConfig, n: number, paths: EvolvePaths): string {
    const round = config.rounds[n - 1] as RoundConfig;
    return round.sft.earlierRecords === "all" && n > 1 ? paths.round(n).sftMix : paths.round(n).sft;
}

/**
 * The mixed SFT records of round n: its own records `ownRecordsRepeat` times, then every earlier round's `sft.jsonl`
 * that exists, in round order (deterministic, so a resumed stage trains on the same file).
 */
export function mixedSftRecords(config: EvolveConfig, n: number, paths: EvolvePaths, read: (path: string) => string | null): string {
    const round = config.rounds[n - 1] as RoundConfig;
    let mixed = withNewline(read(paths.round(n).sft) ?? "").repeat(round.sft.ownRecordsRepeat);
    for (let earlier = 1; earlier < n; earlier += 1) mixed += withNewline(read(paths.round(earlier).sft) ?? "");
    return mixed;
}

function withNewline(text: string): string {
    return text === "" || text.endsWith("\n") ? text : `${text}\n`;
}

/**
 * The pairs file round n's PPM trains on: its own pairs, or the mix (ppm.earlierPairs "all" after round 1, or
 * ppm.policySamples set).
 */
export function ppmTrainingPairs(config: EvolveConfig, n: number, paths: EvolvePaths): string {
    const round = config.rounds[n - 1] as RoundConfig;
    const mixed = (round.ppm.earlierPairs === "all" && n > 1) || (round.ppm.policySamples ?? null) !== null;
    return mixed ? paths.round(n).ppmPairs : paths.round(n).pairs;
}

/**
 * The mixed training pairs of round n: its own pairs `ownPairsRepeat` times, then (ppm.policySamples) the pairs of its
 * policy's best-of-N samples `policySamples.repeat` times, then (ppm.earlierPairs "all") every earlier round's
 * `pairs.jsonl` that exists, in round order (deterministic, so a resumed stage trains on the same file).
 */
export function mixedPpmPairs(config: EvolveConfig, n: number, paths: EvolvePaths, read: (path: string) => string | null): string {
    const round = config.rounds[n - 1] as RoundConfig;
    const own = withNewline(read(paths.round(n).pairs) ?? "");
    let mixed = own.repeat(round.ppm.ownPairsRepeat);
    const sampling = round.ppm.policySamples ?? null;
    if (sampling !== null) mixed += withNewline(read(paths.round(n).policySamplePairs) ?? "").repeat(sampling.repeat);
    if (round.ppm.earlierPairs === "all") for (let earlier = 1; earlier < n; earlier += 1) mixed += withNewline(read(paths.round(earlier).pairs) ?? "");
    return mixed;
}

/** The synthetic problems round n's misread pairs come from: a seed of their own, the data's settings, no test or ood. */
export function misreadProblemOptions(config: EvolveConfig, n: number): DatasetOptions {
    const round = config.rounds[n - 1] as RoundConfig;
    const pretrain = round.ppm.misreadPretrain;
    if (pretrain === null || pretrain === undefined || !("synth" in config.data)) throw new RstarError("INTERNAL", `round ${n} has no ppm.misreadPretrain`);
    const s = config.data.synth;
    return {
        seed: config.seed * 1000 + 700 + n,
        train: pretrain.problems,
        test: 0,
        ood: 0,
        difficulty: s.difficulty,
        ...(s.steps === undefined ? {} : { inDistributionSteps: parseStepRange(s.steps) }),
        ...(s.oodSteps === undefined ? {} : { oodSteps: parseStepRange(s.oodSteps) }),
        ...(s.trainSteps === undefined ? {} : { trainSteps: parseStepRange(s.trainSteps) }),
    };
}

/**
 * The pretrain-ppm stage's command: a PPM from `policy` on round n's misread pairs; our trainer also measures it on the
 * held-out misread pairs when there are any (a command trainer has only its placeholders).
 */
export function pretrainPpmCommand(config: EvolveConfig, n: number, paths: EvolvePaths, policy: string, heldOut: boolean): StageCommand {
    const rp = paths.round(n);
    const pretrain = (config.rounds[n - 1] as RoundConfig).ppm.misreadPretrain;
    if (pretrain === null || pretrain === undefined) throw new RstarError("INTERNAL", `round ${n} has no ppm.misreadPretrain`);
    const trainer = pretrain.trainer.kind === "rstar" && heldOut ? { ...pretrain.trainer, args: ["--test-pairs", rp.misreadHeldOut, ...pretrain.trainer.args] } : pretrain.trainer;
    return trainPpmCommand(trainer, { round: n, seed: config.seed * 1000 + 100 + n, dir: rp.dir, pairs: rp.misreadPairs, out: rp.misreadPpm, base: policy, test: paths.data.test }, `rounds.${n - 1}.ppm.misreadPretrain.trainer`);
}

export function trainPpmCommand(trainer: Trainer, values: { round: number; seed: number; dir: string; pairs: string; out: string; base: string; test: string | null }, where: string): StageCommand {
    if (trainer.kind === "rstar") return { kind: "rstar", args: ["train", "ppm", "--pairs", values.pairs, "--base", values.base, "--out", values.out, "--seed", String(values.seed), ...trainer.args, "--json"] };
    return { kind: "shell", command: fillTemplate(trainer.command, quoted({ round: String(values.round), seed: String(values.seed), dir: values.dir, pairs: values.pairs, out: values.out, base: values.base, ...(values.test === null ? {} : { test: values.test }) }), where) };
}

function quoted(values: Partial<Record<Placeholder, string>>): Partial<Record<Placeholder, string>> {
    return Object.fromEntries(Object.entries(values).map(([key, value]) => [key, value === "" ? "''" : shellQuote(value as string)]));
}

export function evalArgs(config: EvolveConfig, dataset: string, method: string, out: string, policy: { url: string; model: string }, reward: string[] | null, resume: boolean, queue?: QueueTarget): string[] {
    const args = ["eval", "--dataset", dataset, "--method", method, "--out", out, "--concurrency", String(config.eval.concurrency), ...serverArgs(policy, queue)];
    if (config.eval.limit !== null) args.push("--limit", String(config.eval.limit));
    if (reward !== null) args.push(...reward);
    args.push(...config.eval.args, ...(config.eval.methodArgs[method] ?? []), "--json");
    if (resume) args.push("--resume");
    return args;
}

export function synthArgs(config: EvolveConfig, out: string): string[] | null {
    if (!("synth" in config.data)) return null;
    const s = config.data.synth;
    const args = ["synth", "generate", "--out", out, "--seed", String(config.seed), "--train", String(s.train), "--test", String(s.test), "--ood", String(s.ood), "--difficulty", String(s.difficulty), "--format", "jsonl"];
    if (s.steps !== undefined) args.push("--steps", s.steps);
    if (s.oodSteps !== undefined) args.push("--ood-steps", s.oodSteps);
    if (s.trainSteps !== undefined) args.push("--train-steps", s.trainSteps);
    return args;
}

/** Lines of a JSONL file that hold something (0 when the file is missing). */
export function countLines(path: string): number {
    if (!existsSync(path)) return 0;
    return readFileSync(path, "utf8").split("\n").filter((line) => line.trim() !== "").length;
}

export function rel(dir: string, path: string): string {
    return relative(dir, path) || ".";
}
