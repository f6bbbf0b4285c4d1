import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { loadDataset } from "../data/index.js";
import { RstarError } from "../errors/index.js";
import { parseJson } from "../util/index.js";
import { type EvolveConfig, type LoadedConfig, type RoundConfig } from "./config.js";
import { displayCommand, freePort, killLeftovers, runChild, startServer, withPort, type RunningServer, type StageCommand } from "./process.js";
import { buildRoundReport, writeEvolveReport } from "./report.js";
import { writeMisreadPairs } from "./misread-stage.js";
import { policySampleProblems, questionsIn, readOutcomes, sampleProblems } from "./sample.js";
import {
    countLines,
    mixedPpmPairs,
    ppmTrainingPairs,
    evalArgs,
    baselineModels,
    evalModels,
    evalTarget,
    evolvePaths,
    extractArgs,
    methodNeedsReward,
    policySamplesArgs,
    pretrainPpmCommand,
    policyServer,
    rel,
    rewardFlags,
    roundStages,
    searchArgs,
    searchModels,
    synthArgs,
    trainPpmCommand,
    trainSftCommand,
    sftTrainingRecords,
    mixedSftRecords,
    type EvolvePaths,
    type QueueTarget,
    type ServerSpec,
    type StagePlan,
} from "./stages.js";
import { describeWorkerModels, type WorkerModels } from "./worker-models.js";
import { STATE_FORMAT, emptyStage, readState, writeJsonAtomic, writeState, writeTextAtomic, type RoundState } from "./state.js";

export type EvolveEvent =
    | { type: "stage-start"; round: number; stage: string; index: number; total: number; command: string | null; attempt: number }
    | { type: "stage-kept"; round: number; stage: string; status: string }
    | { type: "stage-line"; round: number; stage: string; line: string }
    | { type: "stage-end"; round: number; stage: string; status: "done" | "skipped" | "failed"; seconds: number; note: string | null }
    | { type: "server"; round: number; stage: string; action: "start" | "stop"; command: string | null; url: string };

export interface EvolveOptions {
    loaded: LoadedConfig;
    dir: string;
    resume: boolean;
    /** First and last round to run (1-based, inclusive). */
    rounds: { from: number; to: number };
    signal?: AbortSignal;
    onEvent?: (event: EvolveEvent) => void;
    /**
     * `--queue redis://…`: the search and evaluation stages enqueue their problems for `rstar worker`s (which start the
     * round's policy and reward servers on their own hosts, from `round-N/worker-models-{search,eval}.json`); no
     * servers start here. Recorded in `DIR/queue.json` (without its password) so that `--resume` keeps it.
     */
    queue?: string;
}

export interface EvolveResult {
    dir: string;
    report: string;
    rounds: number[];
}

/** `DIR/config.json`: the resolved config a run was started with (a resume must match it). */
export function evolveConfigPath(dir: string): string {
    return join(dir, "config.json");
}

/**
 * Runs (or resumes) self-evolution rounds. Each stage's state is recorded before and after it runs, so after a kill -9
 * anywhere `resume` continues at the stage that was running: search and evaluation stages continue their durable run
 * (`--resume`), the others start over from a clean output; finished stages are kept.
 */
export async function runEvolve(options: EvolveOptions): Promise<EvolveResult> {
    const dir = resolve(options.dir);
    const { config } = options.loaded;
    checkRounds(config, options.rounds);
    const existed = existsSync(evolveConfigPath(dir));
    prepareDirectory(dir, config, options.resume);
    const queue = queueOf(dir, options.queue, existed);
    const paths = evolvePaths(options.loaded, dir);
    // An orchestrator killed with -9 leaves its stage and servers running (they have their own process groups).
    const leftovers = readPids(serversPath(dir));
    for (let n = 1; n <= config.rounds.length; n += 1) {
        const state = readState(paths.round(n).state);
        for (const stage of Object.values(state?.stages ?? {})) if (stage.pid !== null) leftovers.push(stage.pid);
    }
    const data = readState(join(dir, "state.json"));
    for (const stage of Object.values(data?.stages ?? {})) if (stage.pid !== null) leftovers.push(stage.pid);
    killLeftovers(leftovers);
    writeJsonAtomic(serversPath(dir), []);
    const orchestrator = new Orchestrator(options, config, paths, queue);
    try {
        await orchestrator.dataStage();
        for (let n = 1; n < options.rounds.from; n += 1) orchestrator.requireFinished(n);
        for (let n = options.rounds.from; n <= options.rounds.to; n += 1) await orchestrator.round(n);
    } finally {
        await orchestrator.stopServers();
    }
    return { dir, report: writeEvolveReport(dir, config.rounds.length), rounds: range(options.rounds.from, options.rounds.to) };
}

export function checkRounds(config: EvolveConfig, rounds: { from: number; to: number }): void {
    if (rounds.from < 1 || rounds.to < rounds.from || rounds.to > config.rounds.length) {
        throw new RstarError("INVALID_ARGUMENT", `--rounds ${rounds.from}-${rounds.to} is outside the config's rounds 1-${config.rounds.length}`);
    }
}

function prepareDirectory(dir: string, config: EvolveConfig, resume: boolean): void {
    const path = evolveConfigPath(dir);
    const text = JSON.stringify(config, null, 2) + "\n";
    if (existsSync(path)) {
        if (!resume) throw new RstarError("RUN_CONFLICT", `${dir} already holds an evolve run; add --resume to continue it, or choose another --out`);
        if (readFileSync(path, "utf8") !== text) throw new RstarError("RUN_CONFLICT", `the config differs from the one ${dir} was started with (${path}); resume with the same config, or start a new --out`);
        return;
    }
    mkdirSync(dir, { recursive: true });
    writeTextAtomic(path, text);
}

/** `DIR/queue.json`: the Redis URL of a run started with --queue (its password removed). */
export function evolveQueuePath(dir: string): string {
    return join(dir, "queue.json");
}

/** The queue this run uses: the one given, or the one it was started with (--resume). */
function queueOf(dir: string, given: string | undefined, existed: boolean): { url: string; env: NodeJS.ProcessEnv } | null {
    const path = evolveQueuePath(dir);
    const stored = existsSync(path) ? (parseJson(readFileSync(path, "utf8")) as { ok: boolean; value?: { queue?: unknown } }) : null;
    const storedUrl = stored?.ok && typeof stored.value?.queue === "string" ? stored.value.queue : null;
    if (given === undefined) return storedUrl === null ? null : { url: storedUrl, env: process.env };
    if (existed && storedUrl === null) throw new RstarError("RUN_CONFLICT", `${dir} was started without --queue; resume it without --queue (a run keeps where its searches run)`);
    let url: URL;
    try {
        url = new URL(given);
    } catch {
        throw new RstarError("INVALID_ARGUMENT", `--queue ${JSON.stringify(given)} is not a URL; expected redis://HOST:PORT[/DB] or rediss://… (TLS)`);
    }
    // The password goes to the stages in RSTAR_REDIS_PASSWORD: never into their command lines, state files or queue.json.
    const password = url.password === "" ? undefined : decodeURIComponent(url.password);
    url.password = "";
    const plain = url.href.replace(/\/$/, "");
    writeJsonAtomic(path, { queue: plain });
    return { url: plain, env: password === undefined ? process.env : { ...process.env, RSTAR_REDIS_PASSWORD: password } };
}

/** `DIR/servers.json`: process groups of the servers running now (so a resume after kill -9 can stop them). */
function serversPath(dir: string): string {
    return join(dir, "servers.json");
}

function readPids(path: string): number[] {
    if (!existsSync(path)) return [];
    const parsed = parseJson(readFileSync(path, "utf8"));
    return parsed.ok && Array.isArray(parsed.value) ? parsed.value.filter((pid): pid is number => Number.isInteger(pid) && (pid as number) > 1) : [];
}

function range(from: number, to: number): number[] {
    return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

class StageFailure extends RstarError {}

class Orchestrator {
    private readonly servers = new Map<string, { server: RunningServer; url: string; command: string }>();

    constructor(
        private readonly options: EvolveOptions,
        private readonly config: EvolveConfig,
        private readonly paths: EvolvePaths,
        private readonly queue: { url: string; env: NodeJS.ProcessEnv } | null,
    ) {}

    /** `--queue`: writes the worker models file of a stage (durable: the jobs name these models and hashes). */
    private async workerModels(file: string, models: { policy: WorkerModels["policy"]; reward: WorkerModels["reward"] }, values: Record<string, string>): Promise<QueueTarget> {
        const described = await describeWorkerModels({ ...models, values, cwd: this.options.loaded.baseDir });
        writeJsonAtomic(file, described);
        return { url: (this.queue as { url: string }).url, workerModels: file };
    }

    private emit(event: EvolveEvent): void {
        this.options.onEvent?.(event);
    }

    /** Round 0: the synthetic data set (nothing for a config with data files). */
    async dataStage(): Promise<void> {
        const args = synthArgs(this.config, join(this.paths.dir, "data"));
        const statePath = join(this.paths.dir, "state.json");
        const state = readState(statePath) ?? { format: STATE_FORMAT, round: 0, order: ["data"], stages: { data: emptyStage() }, artifacts: { policy: null, ppm: null } };
        if (args === null) {
            for (const [name, path] of Object.entries(this.paths.data)) if (path !== null && !existsSync(path)) throw new RstarError("FILE_NOT_FOUND", `data.${name}: ${path} does not exist`);
            return;
        }
        await this.runStage(state, statePath, 0, { name: "data", kind: "data" }, 0, 1, async () => ({ command: { kind: "rstar", args }, outputs: [join(this.paths.dir, "data")] }));
    }

    requireFinished(n: number): void {
        const state = readState(this.paths.round(n).state);
        if (state === null || state.order.some((name) => !["done", "skipped"].includes(state.stages[name]?.status ?? "pending"))) {
            throw new RstarError("INVALID_ARGUMENT", `round ${n} has not finished in ${this.paths.dir}; run it first (--rounds ${n}-…)`);
        }
    }

    private previousArtifacts(n: number): { policy: string | null; ppm: string | null } {
        if (n === 1) return { policy: null, ppm: null };
        const state = readState(this.paths.round(n - 1).state);
        if (state === null) throw new RstarError("INTERNAL", `round ${n - 1} has no state file`);
        const abs = (path: string | null) => (path === null ? null : join(this.paths.dir, path));
        return { policy: abs(state.artifacts.policy), ppm: abs(state.artifacts.ppm) };
    }

    async round(n: number): Promise<void> {
        const rp = this.paths.round(n);
        const plans = roundStages(this.config, n, this.paths);
        const existing = readState(rp.state);
        const state: RoundState = existing ?? { format: STATE_FORMAT, round: n, order: plans.map((p) => p.name), stages: Object.fromEntries(plans.map((p) => [p.name, emptyStage()])), artifacts: { policy: null, ppm: null } };
        mkdirSync(rp.dir, { recursive: true });
        if (existing === null) writeState(rp.state, state);
        const previous = this.previousArtifacts(n);
        for (const [index, plan] of plans.entries()) {
            await this.runStage(state, rp.state, n, plan, index, plans.length, () => this.prepare(n, plan, state, previous));
        }
        await this.stopServers();
    }

    /** What a stage runs, after its in-process preparation (sampling, choosing checkpoints); null = skipped. */
    private async prepare(n: number, plan: StagePlan, state: RoundState, previous: { policy: string | null; ppm: string | null }): Promise<PreparedStage> {
        const rp = this.paths.round(n);
        const round = this.config.rounds[n - 1] as RoundConfig;
        const where = `rounds.${n - 1}`;
        const values = { round: String(n), seed: String(this.config.seed), dir: rp.dir };
        switch (plan.kind) {
            case "data":
                throw new RstarError("INTERNAL", "the data stage is not a round stage");
            case "sample": {
                const train = await loadDataset(this.paths.data.train);
                const searched = new Set<string>();
                const solved = new Set<string>();
                for (let earlier = 1; earlier < n; earlier += 1) {
                    for (const run of this.searchRuns(earlier)) {
                        const outcome = readOutcomes(join(run, "results.jsonl"));
                        for (const q of outcome.searched) searched.add(q);
                        for (const q of outcome.solved) solved.add(q);
                    }
                }
                const picked = sampleProblems(this.config, n, train, solved, searched);
                writeTextAtomic(rp.problems, picked.map((p) => JSON.stringify(p.record) + "\n").join(""));
                return { internal: `${picked.length} of ${train.length} train problems (${round.problems.sample}${round.problems.count === null ? "" : ` ${round.problems.count}`}${round.problems.steps === undefined ? "" : `, ${round.problems.steps} steps`}) → ${rel(this.paths.dir, rp.problems)}`, summary: { problems: picked.length } };
            }
            case "search":
            case "search-unsolved": {
                const pass = plan.pass ?? 0;
                let problems = rp.problems;
                const out = pass === 0 ? rp.search : rp.more(pass);
                if (pass > 0) {
                    problems = rp.moreProblems(pass);
                    if (!existsSync(problems)) {
                        const before = pass === 1 ? rp.search : rp.more(pass - 1);
                        const { solved } = readOutcomes(join(before, "results.jsonl"));
                        const all = await loadDataset(pass === 1 ? rp.problems : rp.moreProblems(pass - 1));
                        writeTextAtomic(problems, all.filter((p) => !solved.has(p.question)).map((p) => JSON.stringify(p.record) + "\n").join(""));
                    }
                }
                if (countLines(problems) === 0) return { skip: "no problems to search" };
                const policy = policyServer(round.policy, previous.policy, values, `${where}.policy`);
                const reward = round.search.guidance === "ppm" ? this.reward(previous.ppm, values, `serve.reward`) : null;
                if (round.search.guidance === "ppm" && reward === null) return { skip: "no PPM from an earlier round (guidance ppm)" };
                const resume = existsSync(join(out, "config.json"));
                if (this.queue !== null) {
                    // The workers start the servers on their hosts; none runs here.
                    const queue = await this.workerModels(rp.workerModels("search"), searchModels(this.config, n, previous), values);
                    return { command: { kind: "rstar", args: searchArgs(this.config, n, pass, problems, out, plan.rollouts ?? round.search.rollouts, policy, null, resume, queue) }, outputs: resume ? [] : [out] };
                }
                return {
                    servers: [policy, ...(reward?.server ? [reward.server] : [])],
                    command: (urls) => ({ kind: "rstar", args: searchArgs(this.config, n, pass, problems, out, plan.rollouts ?? round.search.rollouts, { url: urls.policy ?? policy.url, model: policy.model }, reward ? reward.flags(urls.reward ?? "") : null, resume) }),
                    outputs: resume ? [] : [out],
                };
            }
            case "policy-samples": {
                const problems = rp.policySampleProblems;
                if (!existsSync(problems)) {
                    const train = await loadDataset(this.paths.data.train);
                    const searched = await questionsIn(rp.problems);
                    writeTextAtomic(problems, policySampleProblems(this.config, n, train, searched).map((p) => JSON.stringify(p.record) + "\n").join(""));
                }
                if (countLines(problems) === 0) return { skip: "no train problems outside the round's search" };
                const policy = policyServer(round.policy, previous.policy, values, `${where}.policy`);
                const out = rp.policySamples;
                const resume = existsSync(join(out, "config.json"));
                if (this.queue !== null) {
                    // The same models as the round's searches (the workers keep their servers; no reward model is used).
                    const queue = await this.workerModels(rp.workerModels("search"), searchModels(this.config, n, previous), values);
                    return { command: { kind: "rstar", args: policySamplesArgs(this.config, n, problems, out, policy, resume, queue) }, outputs: resume ? [] : [out] };
                }
                return {
                    servers: [policy],
                    command: (urls) => ({ kind: "rstar", args: policySamplesArgs(this.config, n, problems, out, { url: urls.policy ?? policy.url, model: policy.model }, resume) }),
                    outputs: resume ? [] : [out],
                };
            }
            case "extract-policy-samples": {
                const trees = join(rp.policySamples, "trees.jsonl");
                if (!existsSync(trees)) return { skip: "no best-of-N samples" };
                return { command: { kind: "rstar", args: extractArgs(this.config, n, "ppm", [trees], rp.policySamplePairs) }, outputs: [rp.policySamplePairs] };
            }
            case "extract-sft":
            case "extract-ppm": {
                const trees = this.searchRuns(n).map((run) => join(run, "trees.jsonl")).filter((file) => existsSync(file));
                if (trees.length === 0) return { skip: "no search trees" };
                const out = plan.kind === "extract-sft" ? rp.sft : rp.pairs;
                return { command: { kind: "rstar", args: extractArgs(this.config, n, plan.kind === "extract-sft" ? "sft" : "ppm", trees, out) }, outputs: [out] };
            }
            case "train-sft": {
                const records = countLines(rp.sft);
                if (records === 0) {
                    state.artifacts.policy = previous.policy === null ? null : rel(this.paths.dir, previous.policy);
                    if (previous.policy === null) throw new StageFailure("INVALID_INPUT", `round ${n}: no SFT records (the search found no correct trajectory) and no earlier policy to keep`);
                    return { skip: `no SFT records; round ${n} keeps the policy of round ${n - 1}` };
                }
                const init = round.sft.init === "previous" && previous.policy !== null ? previous.policy : this.config.basePolicy;
                state.artifacts.policy = rel(this.paths.dir, rp.policy);
                const trainingRecords = sftTrainingRecords(this.config, n, this.paths);
                if (trainingRecords !== rp.sft) writeTextAtomic(trainingRecords, mixedSftRecords(this.config, n, this.paths, (path) => (existsSync(path) ? readFileSync(path, "utf8") : null)));
                return { command: trainSftCommand(round.sft.trainer, { round: n, seed: this.config.seed * 1000 + n, dir: rp.dir, data: trainingRecords, out: rp.policy, init, test: this.paths.data.test }, `${where}.sft.trainer`), outputs: [rp.policy] };
            }
            case "misread-pairs": {
                if (state.artifacts.policy === null) return { skip: "no policy to pretrain a PPM from" };
                const made = await writeMisreadPairs(this.config, n, this.paths);
                return {
                    internal: `${made.pairs} misread pairs (${made.stepPairs} steps, ${made.solutionPairs} whole solutions) from ${made.problems} new problems${made.excluded > 0 ? ` (${made.excluded} left out: their question is in test or ood)` : ""}, ${made.heldOutPairs} held out → ${rel(this.paths.dir, rp.misreadPairs)}`,
                    summary: made,
                };
            }
            case "pretrain-ppm": {
                const pretrain = round.ppm.misreadPretrain ?? null;
                const policy = state.artifacts.policy === null ? null : join(this.paths.dir, state.artifacts.policy);
                if (pretrain === null || policy === null || countLines(rp.misreadPairs) === 0) return { skip: "no policy or no misread pairs" };
                return { command: pretrainPpmCommand(this.config, n, this.paths, policy, countLines(rp.misreadHeldOut) > 0), outputs: [rp.misreadPpm] };
            }
            case "train-ppm": {
                // The round's own pairs: from its searches, and from its policy's best-of-N samples (ppm.policySamples).
                const pairs = countLines(rp.pairs) + ((round.ppm.policySamples ?? null) !== null ? countLines(rp.policySamplePairs) : 0);
                const policy = state.artifacts.policy === null ? null : join(this.paths.dir, state.artifacts.policy);
                if (pairs === 0 || policy === null) {
                    state.artifacts.ppm = previous.ppm === null ? null : rel(this.paths.dir, previous.ppm);
                    return { skip: `no preference pairs; round ${n} ${previous.ppm === null ? "has no PPM" : `keeps the PPM of round ${n - 1}`}` };
                }
                // Official repo, issue #29: each round the reward model is re-initialised from the (new) policy; with
                // ppm.misreadPretrain, from that policy pretrained on misread pairs.
                const pretrained = state.stages["pretrain-ppm"]?.status === "done" && existsSync(rp.misreadPpm) ? rp.misreadPpm : null;
                const base = pretrained ?? (round.ppm.init === "previous" && previous.ppm !== null ? previous.ppm : policy);
                state.artifacts.ppm = rel(this.paths.dir, rp.ppm);
                const trainingPairs = ppmTrainingPairs(this.config, n, this.paths);
                if (trainingPairs !== rp.pairs) writeTextAtomic(trainingPairs, mixedPpmPairs(this.config, n, this.paths, (path) => (existsSync(path) ? readFileSync(path, "utf8") : null)));
                return { command: trainPpmCommand(round.ppm.trainer, { round: n, seed: this.config.seed * 1000 + n, dir: rp.dir, pairs: trainingPairs, out: rp.ppm, base, test: this.paths.data.test }, `${where}.ppm.trainer`), outputs: [rp.ppm] };
            }
            case "eval": {
                const split = plan.split as "test" | "ood";
                const method = plan.method as string;
                const dataset = this.paths.data[split] as string;
                const policyDir = state.artifacts.policy === null ? null : join(this.paths.dir, state.artifacts.policy);
                const ppmDir = state.artifacts.ppm === null ? null : join(this.paths.dir, state.artifacts.ppm);
                if (policyDir === null) return { skip: "no policy" };
                const { policy, run } = evalTarget(this.config, plan, policyDir, values);
                const reward = methodNeedsReward(method) ? this.reward(ppmDir, values, "serve.reward") : null;
                if (methodNeedsReward(method) && reward === null) return { skip: `${method} needs a PPM and round ${n} has none` };
                const out = rp.eval(split, run);
                const resume = existsSync(join(out, "config.json"));
                if (this.queue !== null) {
                    const models = plan.baseline ? baselineModels(this.config, ppmDir) : evalModels(this.config, n, policyDir, ppmDir);
                    const queue = await this.workerModels(rp.workerModels(plan.baseline ? "baseline" : "eval"), models, values);
                    return { command: { kind: "rstar", args: evalArgs(this.config, dataset, method, out, policy, null, resume, queue) }, outputs: resume ? [] : [out] };
                }
                return {
                    servers: [policy, ...(reward?.server ? [reward.server] : [])],
                    command: (urls) => ({ kind: "rstar", args: evalArgs(this.config, dataset, method, out, { url: urls.policy ?? policy.url, model: policy.model }, reward ? reward.flags(urls.reward ?? "") : null, resume) }),
                    outputs: resume ? [] : [out],
                };
            }
            case "report": {
                await this.stopServers();
                const report = buildRoundReport(this.paths.dir, n, state, this.searchRuns(n));
                writeJsonAtomic(rp.report, report);
                writeEvolveReport(this.paths.dir, this.config.rounds.length);
                return { internal: `${rel(this.paths.dir, rp.report)}, report.json` };
            }
        }
    }

    private reward(ppm: string | null, values: Record<string, string>, where: string) {
        if (ppm === null) return null;
        return rewardFlags(this.config.serve.reward, ppm, values, where);
    }

    /** The run directories of a round's searches that exist (main search, then the unsolved passes). */
    searchRuns(n: number): string[] {
        const rp = this.paths.round(n);
        const round = this.config.rounds[n - 1] as RoundConfig;
        return [rp.search, ...round.search.unsolvedRollouts.map((_, i) => rp.more(i + 1))].filter((run) => existsSync(run));
    }

    private async runStage(state: RoundState, statePath: string, n: number, plan: StagePlan, index: number, total: number, prepare: () => Promise<PreparedStage>): Promise<void> {
        const stage = state.stages[plan.name] ?? emptyStage();
        state.stages[plan.name] = stage;
        if (stage.status === "done" || stage.status === "skipped") {
            this.emit({ type: "stage-kept", round: n, stage: plan.name, status: stage.status });
            return;
        }
        if (this.options.signal?.aborted) throw new RstarError("ABORTED", "interrupted");
        const started = performance.now();
        stage.status = "running";
        stage.attempts += 1;
        stage.startedAt = new Date().toISOString();
        stage.note = null;
        writeState(statePath, state);
        let prepared: PreparedStage;
        try {
            prepared = await prepare();
        } catch (error) {
            stage.status = "failed";
            stage.note = (error as Error).message;
            stage.seconds += (performance.now() - started) / 1000;
            writeState(statePath, state);
            throw error;
        }
        const finish = (status: "done" | "skipped", note: string | null, summary?: unknown) => {
            stage.status = status;
            stage.note = note;
            stage.pid = null;
            stage.finishedAt = new Date().toISOString();
            stage.seconds += (performance.now() - started) / 1000;
            if (summary !== undefined) stage.summary = summary;
            writeState(statePath, state);
            this.emit({ type: "stage-end", round: n, stage: plan.name, status, seconds: stage.seconds, note });
        };
        if ("skip" in prepared) {
            this.emit({ type: "stage-start", round: n, stage: plan.name, index, total, command: null, attempt: stage.attempts });
            finish("skipped", prepared.skip);
            return;
        }
        if ("internal" in prepared) {
            this.emit({ type: "stage-start", round: n, stage: plan.name, index, total, command: null, attempt: stage.attempts });
            finish("done", prepared.internal, prepared.summary);
            return;
        }
        const urls = await this.ensureServers(n, plan.name, prepared.servers ?? []);
        const command = typeof prepared.command === "function" ? prepared.command(urls) : prepared.command;
        stage.command = displayCommand(command);
        // A stage that does not resume starts from a clean output.
        for (const output of prepared.outputs) rmSync(output, { recursive: true, force: true });
        this.emit({ type: "stage-start", round: n, stage: plan.name, index, total, command: stage.command, attempt: stage.attempts });
        const result = await runChild(command, {
            cwd: this.options.loaded.baseDir,
            onLine: (line) => this.emit({ type: "stage-line", round: n, stage: plan.name, line }),
            onStart: (pid) => {
                stage.pid = pid;
                writeState(statePath, state);
            },
            ...(this.options.signal ? { signal: this.options.signal } : {}),
            ...(this.queue !== null ? { env: this.queue.env } : {}),
        });
        const summary = lastJson(result.stdout);
        // Exit 1: finished, but some records were malformed or some problems failed on their own (see the summary).
        if (result.code === 0 || result.code === 1) {
            finish("done", result.code === 1 ? "finished with some failed or malformed records (exit 1)" : null, summary);
            return;
        }
        stage.status = "failed";
        stage.pid = null;
        stage.seconds += (performance.now() - started) / 1000;
        stage.note = result.signal !== null ? `killed by ${result.signal}` : `exit code ${result.code}`;
        writeState(statePath, state);
        this.emit({ type: "stage-end", round: n, stage: plan.name, status: "failed", seconds: stage.seconds, note: stage.note });
        const interrupted = result.signal !== null || result.code === 130 || this.options.signal?.aborted === true;
        throw new StageFailure(interrupted ? "ABORTED" : result.code === 3 ? "BACKEND_UNAVAILABLE" : result.code === 2 ? "INVALID_INPUT" : "INTERNAL", `round ${n} stage ${plan.name} ${stage.note}: ${stage.command}${interrupted ? " (continue with --resume)" : ""}`, {
            details: { exitCode: result.code, signal: result.signal },
        });
    }

    /** Starts the servers a stage needs (keeping those it shares with the stage before) and stops the others. */
    private async ensureServers(n: number, stage: string, specs: ServerSpec[]): Promise<{ policy?: string; reward?: string }> {
        const wanted = new Map(specs.filter((s) => s.start !== null).map((s) => [s.role + " " + displayCommand((s.start as NonNullable<ServerSpec["start"]>).command), s]));
        for (const [key, running] of [...this.servers]) {
            if (!wanted.has(key)) {
                await running.server.stop();
                this.servers.delete(key);
                this.recordServers();
                this.emit({ type: "server", round: n, stage, action: "stop", command: running.command, url: running.url });
            }
        }
        const urls: { policy?: string; reward?: string } = {};
        for (const spec of specs) {
            if (spec.start === null) {
                urls[spec.role] = spec.url;
                continue;
            }
            const key = spec.role + " " + displayCommand(spec.start.command);
            let running = this.servers.get(key);
            if (running === undefined) {
                const port = String(await freePort());
                const command = withPort(spec.start.command, port);
                const url = spec.url.replaceAll("{port}", port);
                this.emit({ type: "server", round: n, stage, action: "start", command: displayCommand(command), url });
                const server = await startServer(command, url, {
                    cwd: this.options.loaded.baseDir,
                    readyTimeoutMs: spec.start.readyTimeoutMs,
                    onLine: (line) => this.emit({ type: "stage-line", round: n, stage: `${stage} (${spec.role} server)`, line }),
                    probePath: /\/v1\/?$/.test(url) ? "/models" : "/v1/models",
                });
                running = { server, url, command: displayCommand(command) };
                this.servers.set(key, running);
                this.recordServers();
            }
            urls[spec.role] = running.url;
        }
        return urls;
    }

    async stopServers(): Promise<void> {
        for (const [key, running] of [...this.servers]) {
            await running.server.stop();
            this.servers.delete(key);
        }
        this.recordServers();
    }

    private recordServers(): void {
        writeJsonAtomic(serversPath(this.paths.dir), [...this.servers.values()].map((s) => s.server.pid).filter((pid) => pid !== null));
    }
}

type PreparedStage =
    | { skip: string }
    | { internal: string; summary?: unknown }
    | { servers?: ServerSpec[]; command: StageCommand | ((urls: { policy?: string; reward?: string }) => StageCommand); outputs: string[] };

/** The last line of a command's stdout that is a JSON object (its --json summary), if any. */
function lastJson(stdout: string): unknown {
    const lines = stdout.trim().split("\n").reverse();
    for (const line of lines) {
        if (!line.startsWith("{")) continue;
        const parsed = parseJson(line);
        if (parsed.ok) return parsed.value;
    }
    return undefined;
}

