import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { loadDataset } from "../data/index.js";
import { describeError } from "../errors/index.js";
import type { LoadedConfig, RoundConfig, Trainer } from "./config.js";
import { displayCommand, type StageCommand } from "./process.js";
import {
    evalArgs,
    evolvePaths,
    extractArgs,
    methodNeedsReward,
    misreadProblemOptions,
    policySamplesArgs,
    pretrainPpmCommand,
    policyServer,
    rewardFlags,
    roundStages,
    searchArgs,
    synthArgs,
    ppmTrainingPairs,
    trainPpmCommand,
    trainSftCommand,
    sftTrainingRecords,
    evalTarget,
    type ServerSpec,
} from "./stages.js";
import { readState } from "./state.js";
import { checkRounds } from "./run-evolve.js";

/**
 * `rstar evolve --dry-run`: every stage's command as it would run (server ports and the checkpoints of rounds not run
 * yet stay symbolic), and checks of the inputs and data formats; writes nothing.
 */

export interface PlannedStage {
    round: number;
    stage: string;
    /** null for stages run in-process (sampling, reports). */
    command: string | null;
    servers: string[];
    /** The state a resume would find (pending when nothing ran yet). */
    status: string;
    notes: string[];
}

export interface DryRunCheck {
    what: string;
    ok: boolean;
    message: string;
}

export interface DryRunResult {
    stages: PlannedStage[];
    checks: DryRunCheck[];
    ok: boolean;
}

/** The records each trainer reads, by format: what `rstar extract` writes and what the consumer needs. */
const FORMATS = {
    sft: {
        official: "{query, response} JSONL (rstar train sft; official train_SFT.py)",
        trl: "{prompt, completion} JSONL (TRL SFTTrainer, prompt-completion dataset)",
    },
    ppm: {
        official: "{prompt, pos, neg, pos_count, neg_count} JSONL (rstar train ppm; official train_RM.py)",
        trl: "{prompt, chosen, rejected} JSONL (TRL RewardTrainer, preference dataset with an explicit prompt)",
    },
} as const;

/** `queue`: the Redis URL of `rstar evolve --queue` (searches and evaluations go to the workers, which start the servers). */
export async function dryRun(loaded: LoadedConfig, dirArg: string, rounds: { from: number; to: number }, queue?: string): Promise<DryRunResult> {
    const { config } = loaded;
    checkRounds(config, rounds);
    const dir = resolve(dirArg);
    const paths = evolvePaths(loaded, dir);
    const checks: DryRunCheck[] = [];
    const stages: PlannedStage[] = [];
    const statusOf = (n: number, name: string) => {
        try {
            const state = readState(n === 0 ? join(dir, "state.json") : paths.round(n).state);
            return state?.stages[name]?.status ?? "pending";
        } catch {
            return "unreadable";
        }
    };

    // Inputs.
    const synth = synthArgs(config, join(dir, "data"));
    if (synth !== null) stages.push({ round: 0, stage: "data", command: displayCommand({ kind: "rstar", args: synth }), servers: [], status: statusOf(0, "data"), notes: [] });
    else {
        for (const [split, path] of Object.entries(paths.data)) {
            if (path === null) continue;
            try {
                const problems = await loadDataset(path);
                const withAnswer = problems.filter((p) => p.answer !== null).length;
                checks.push({ what: `data.${split}`, ok: withAnswer === problems.length && problems.length > 0, message: `${path}: ${problems.length} problems, ${withAnswer} with an answer${withAnswer < problems.length ? " (the search needs gold answers for its terminal reward)" : ""}` });
            } catch (error) {
                checks.push({ what: `data.${split}`, ok: false, message: describeError(error) });
            }
        }
    }
    if (config.basePolicy !== null) checks.push({ what: "basePolicy", ok: true, message: `${config.basePolicy} (passed to the trainer as {init}; not checked here: it may live on the training machines)` });

    // Stages, round by round; checkpoints of earlier rounds are the directories they will write.
    for (let n = rounds.from; n <= rounds.to; n += 1) {
        const round = config.rounds[n - 1] as RoundConfig;
        const rp = paths.round(n);
        const prev = n === 1 ? null : paths.round(n - 1);
        const values = { round: String(n), seed: String(config.seed), dir: rp.dir };
        const symbolicUrls = (servers: ServerSpec[]) => ({ policy: servers.find((s) => s.role === "policy")?.url, reward: servers.find((s) => s.role === "reward")?.url });
        for (const plan of roundStages(config, n, paths)) {
            const planned: PlannedStage = { round: n, stage: plan.name, command: null, servers: [], status: statusOf(n, plan.name), notes: [] };
            const withServers = (servers: ServerSpec[], command: (urls: { policy?: string | undefined; reward?: string | undefined }) => StageCommand, workerModels?: string) => {
                const onWorkers = queue === undefined || workerModels === undefined ? "" : "on each worker host: ";
                planned.servers = servers.map((s) => onWorkers + (s.start === null ? `${s.role}: ${s.url} (model ${s.model}, already running)` : `${s.role}: ${displayCommand(s.start.command)} → ${s.url} (model ${s.model})`));
                planned.command = displayCommand(command(symbolicUrls(servers)));
                if (onWorkers !== "") planned.notes.push(`rstar worker --queue ${queue} on each host starts the servers of ${workerModels} (written when the stage starts, with the checkpoints' sha256)`);
            };
            const queueTarget = (kind: "search" | "eval" | "baseline") => (queue === undefined ? undefined : { url: queue, workerModels: rp.workerModels(kind) });
            try {
                switch (plan.kind) {
                    case "sample":
                        planned.notes.push(`${round.problems.sample}${round.problems.count === null ? " train problems" : ` ${round.problems.count} train problems`}${round.problems.steps === undefined ? "" : ` with ${round.problems.steps} steps`} → ${rp.problems}`);
                        break;
                    case "search":
                    case "search-unsolved": {
                        const pass = plan.pass ?? 0;
                        const policy = policyServer(round.policy, prev?.policy ?? null, values, `rounds.${n - 1}.policy`);
                        const reward = round.search.guidance === "ppm" && prev !== null ? rewardFlags(config.serve.reward, prev.ppm, values, "serve.reward") : null;
                        const problems = pass === 0 ? rp.problems : rp.moreProblems(pass);
                        const target = queueTarget("search");
                        withServers(
                            [policy, ...(reward?.server ? [reward.server] : [])],
                            (urls) => ({ kind: "rstar", args: searchArgs(config, n, pass, problems, pass === 0 ? rp.search : rp.more(pass), plan.rollouts ?? round.search.rollouts, { url: urls.policy ?? policy.url, model: policy.model }, reward && target === undefined ? reward.flags(urls.reward ?? "") : null, false, target) }),
                            target?.workerModels,
                        );
                        if (pass > 0) planned.notes.push(`the problems of the pass before without a correct trajectory → ${problems}`);
                        break;
                    }
                    case "policy-samples": {
                        const sampling = round.ppm.policySamples;
                        const policy = policyServer(round.policy, prev?.policy ?? null, values, `rounds.${n - 1}.policy`);
                        const target = queueTarget("search");
                        withServers([policy], (urls) => ({ kind: "rstar", args: policySamplesArgs(config, n, rp.policySampleProblems, rp.policySamples, { url: urls.policy ?? policy.url, model: policy.model }, false, target) }), target?.workerModels);
                        planned.notes.push(`${sampling?.problems} train problems at random outside ${rp.problems} → ${rp.policySampleProblems}`);
                        break;
                    }
                    case "extract-policy-samples": {
                        planned.command = displayCommand({ kind: "rstar", args: extractArgs(config, n, "ppm", [join(rp.policySamples, "trees.jsonl")], rp.policySamplePairs) });
                        planned.notes.push(`writes ${FORMATS.ppm[round.ppm.format]}; mixed into ${rp.ppmPairs} x${round.ppm.policySamples?.repeat}`);
                        break;
                    }
                    case "extract-sft":
                    case "extract-ppm": {
                        const trees = [rp.search, ...round.search.unsolvedRollouts.map((_, i) => rp.more(i + 1))].map((run) => join(run, "trees.jsonl"));
                        const kind = plan.kind === "extract-sft" ? "sft" : "ppm";
                        planned.command = displayCommand({ kind: "rstar", args: extractArgs(config, n, kind, trees, kind === "sft" ? rp.sft : rp.pairs) });
                        const format = kind === "sft" ? round.sft.format : round.ppm.format;
                        planned.notes.push(`writes ${FORMATS[kind][format]}`);
                        break;
                    }
                    case "train-sft": {
                        const init = round.sft.init === "previous" && prev !== null ? prev.policy : config.basePolicy;
                        planned.command = displayCommand(trainSftCommand(round.sft.trainer, { round: n, seed: config.seed * 1000 + n, dir: rp.dir, data: sftTrainingRecords(config, n, paths), out: rp.policy, init, test: paths.data.test }, `rounds.${n - 1}.sft.trainer`));
                        planned.notes.push(`starts from ${init ?? "scratch (no base model)"}`);
                        if (sftTrainingRecords(config, n, paths) !== rp.sft) planned.notes.push(`trains on ${rp.sftMix}: this round's records x${round.sft.ownRecordsRepeat}, then rounds 1-${n - 1}'s`);
                        checks.push(trainerCheck(`rounds.${n - 1}.sft`, round.sft.trainer, round.sft.format, "sft"));
                        break;
                    }
                    case "misread-pairs": {
                        const pretrain = round.ppm.misreadPretrain;
                        planned.notes.push(`${pretrain?.problems} new synthetic problems (seed ${misreadProblemOptions(config, n).seed}, none of test's or ood's questions), misread pairs (rstar synth misreads) → ${rp.misreadPairs}, the first ${pretrain?.heldOut}'s held out → ${rp.misreadHeldOut}`);
                        break;
                    }
                    case "pretrain-ppm": {
                        const pretrain = round.ppm.misreadPretrain;
                        if (pretrain === null || pretrain === undefined) break;
                        planned.command = displayCommand(pretrainPpmCommand(config, n, paths, rp.policy, true));
                        planned.notes.push(`backbone from ${rp.policy}; the round's PPM continues from ${rp.misreadPpm}`);
                        checks.push(trainerCheck(`rounds.${n - 1}.ppm.misreadPretrain`, pretrain.trainer, "official", "ppm"));
                        break;
                    }
                    case "train-ppm": {
                        const pretrained = (round.ppm.misreadPretrain ?? null) !== null;
                        const base = pretrained ? rp.misreadPpm : round.ppm.init === "previous" && prev !== null ? prev.ppm : rp.policy;
                        planned.command = displayCommand(trainPpmCommand(round.ppm.trainer, { round: n, seed: config.seed * 1000 + n, dir: rp.dir, pairs: ppmTrainingPairs(config, n, paths), out: rp.ppm, base, test: paths.data.test }, `rounds.${n - 1}.ppm.trainer`));
                        planned.notes.push(`backbone from ${base}${pretrained ? " (this round's policy pretrained on misread pairs)" : round.ppm.init === "policy" ? " (re-initialised from this round's policy, official issue #29)" : ""}`);
                        checks.push(trainerCheck(`rounds.${n - 1}.ppm`, round.ppm.trainer, round.ppm.format, "ppm"));
                        break;
                    }
                    case "eval": {
                        const method = plan.method as string;
                        const { policy, run } = evalTarget(config, plan, rp.policy, values);
                        const reward = methodNeedsReward(method) ? rewardFlags(config.serve.reward, rp.ppm, values, "serve.reward") : null;
                        const target = queueTarget(plan.baseline ? "baseline" : "eval");
                        if (plan.baseline) planned.notes.push("eval.baseline: round 1's bootstrap policy with this round's PPM");
                        withServers(
                            [policy, ...(reward?.server ? [reward.server] : [])],
                            (urls) => ({ kind: "rstar", args: evalArgs(config, paths.data[plan.split as "test" | "ood"] as string, method, rp.eval(plan.split as string, run), { url: urls.policy ?? policy.url, model: policy.model }, reward && target === undefined ? reward.flags(urls.reward ?? "") : null, false, target) }),
                            target?.workerModels,
                        );
                        break;
                    }
                    case "report":
                        planned.notes.push(`${rp.report} and ${join(dir, "report.json")}`);
                        break;
                    case "data":
                        break;
                }
            } catch (error) {
                checks.push({ what: `round ${n} ${plan.name}`, ok: false, message: describeError(error) });
            }
            stages.push(planned);
        }
    }
    if (existsSync(join(dir, "config.json"))) checks.push({ what: "out", ok: true, message: `${dir} holds a run; a resume keeps the stages marked done` });
    return { stages, checks, ok: checks.every((c) => c.ok) };
}

/** A command trainer must read the data and write the checkpoint; ours reads only the official format. */
function trainerCheck(where: string, trainer: Trainer, format: "official" | "trl", kind: "sft" | "ppm"): DryRunCheck {
    if (trainer.kind === "rstar") {
        return format === "official"
            ? { what: `${where}.trainer`, ok: true, message: `rstar train ${kind} reads ${FORMATS[kind].official}` }
            : { what: `${where}.trainer`, ok: false, message: `rstar train ${kind} reads ${FORMATS[kind].official}, but ${where}.format is "trl"` };
    }
    const input = kind === "sft" ? "{data}" : "{pairs}";
    const missing = [input, "{out}"].filter((p) => !trainer.command.includes(p));
    if (missing.length > 0) return { what: `${where}.trainer`, ok: false, message: `the command never uses ${missing.join(" and ")}: it would not read this round's data or write where the next stages look` };
    return { what: `${where}.trainer`, ok: true, message: `command reads ${FORMATS[kind][format]} from ${input}, writes {out}` };
}

