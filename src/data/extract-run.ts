import { createHash } from "node:crypto";
import { statSync } from "node:fs";
import { RstarError } from "../errors/index.js";
import type { Judgement } from "../grading/index.js";
import { readJsonLines } from "../util/index.js";
import {
    officialFinalAnswerRecord,
    officialLeafLabel,
    officialPpmRecord,
    selectFinalAnswerPairs,
    selectPairs,
    trlFinalAnswerRecord,
    trlPpmRecord,
    type FinalAnswerPairs,
    type LeafLabel,
    type PpmOptions,
} from "./extract-ppm.js";
import { SftPool, containsError, correctTrajectories, officialSftRecord, sftAnswerLeaves, trlSftRecord } from "./extract-sft.js";
import { isValidFinalAnswer, readTreeRecord, stepsTo, type ExtractionTree, type TreeNode } from "./extract-tree.js";

/**
 * Streaming extraction of training data from tree files: one tree record is read, selected from and written out at a
 * time, so memory stays bounded by the largest tree, whatever the number of problems.
 */

/** "official": the records of the official sample_*_data.py scripts; "trl": prompt/completion and prompt/chosen/rejected. */
export type ExtractFormat = "official" | "trl";
export const EXTRACT_FORMATS: readonly ExtractFormat[] = ["official", "trl"];

/** Who decides whether a final answer is correct: our grader (`createGrader()` fits). */
export interface ExtractGrader {
    judge(gold: string | readonly string[], pred: string): Promise<Judgement>;
}

/** A record that could not be used: reported with its place, then skipped. */
export interface ExtractIssue {
    file: string;
    line: number;
    message: string;
}

export interface ExtractProgress {
    /** SFT reads the files twice: "reading" (grading and ranking), then "writing"; PPM reads them once ("reading"). */
    phase: "reading" | "writing";
    file: string;
    /** Tree records read so far (all files). */
    problems: number;
    /** Training records written so far. */
    records: number;
    bytesRead: number;
    bytesTotal: number;
    elapsedMs: number;
}

interface ExtractCommonOptions {
    /** Tree JSONL files (official format: one `{question, answer, rstar}` record per line). */
    files: readonly string[];
    format: ExtractFormat;
    /** Receives every output record in order; awaited (backpressure). */
    write: (record: object) => Promise<void> | void;
    onIssue?: (issue: ExtractIssue) => void;
    /** Called after every tree record. */
    onProgress?: (progress: ExtractProgress) => void;
    /** Stops between tree records; the summary then says `aborted`. */
    signal?: AbortSignal;
}

export interface ExtractSftOptions extends ExtractCommonOptions {
    grader: ExtractGrader;
    /** Trajectories kept per problem before the "error" filter (official `--n`, 2 in the paper). */
    perProblem: number;
}

/** How PPM extraction decides which leaves are correct or wrong. */
export type PpmLabelling = "q" | "grader";

export interface ExtractPpmOptions extends ExtractCommonOptions, PpmOptions {
    /** "q" (official): terminal Q of exactly 1 / -1; "grader": our grader on the final answer vs the record's answer. */
    labelling: PpmLabelling;
    /** Needed with labelling "grader". */
    grader?: ExtractGrader;
    /** "official" (default): sibling pairs only; "paper": also the paper's final-answer pairs (see selectFinalAnswerPairs). */
    finalAnswerPairs?: FinalAnswerPairs;
}

export interface ExtractSummary {
    files: string[];
    /** Tree records with a tree. */
    problems: number;
    /** Tree records whose `rstar` is null (the search of that problem failed). */
    emptyTrees: number;
    /** Malformed lines and records, each reported through onIssue. */
    skipped: number;
    /** Node states the rebuild did not reach (see docs/extraction.md). */
    ignoredNodes: number;
    /** Output records written. */
    records: number;
    durationMs: number;
    aborted: boolean;
}

export interface SftSummary extends ExtractSummary {
    kind: "sft";
    /** Problems without a gold answer (nothing can be correct). */
    noGold: number;
    problemsWithCorrect: number;
    problemsWithRecords: number;
    /** Correct root-to-answer trajectories found, before ranking. */
    correctTrajectories: number;
    /** Trajectories written (= records). */
    trajectories: number;
    droppedForError: number;
    /** Tree records whose question an earlier record already had: their trajectories are ranked together, as officially. */
    duplicateQuestions: number;
}

export interface PpmSummary extends ExtractSummary {
    kind: "ppm";
    problemsWithPairs: number;
    /** Pairs before the margin and edit-distance thresholds (what extra_rm_file.py writes). */
    candidatePairs: number;
    /** Pairs written (= records), final-answer pairs included. */
    pairs: number;
    /** Of those, paper-style final-answer pairs (0 unless finalAnswerPairs is "paper"). */
    finalAnswerPairs: number;
    droppedByMargin: number;
    droppedByEditDistance: number;
    /** Trees with answer leaves of which none is labelled (with "q": no terminal Q of ±1, e.g. searched without gold). */
    unlabeledTrees: number;
}

/**
 * SFT records. Like the official `sample_sft_data.py`, trajectories are ranked per question: records that repeat a
 * question (the same problem searched again, e.g. with another seed) are pooled before the top n are kept. That takes
 * two passes over the files: the first grades and ranks, keeping only the top n keys per question (a few dozen bytes
 * each); the second re-reads the trees and writes the winners. Memory stays bounded by one tree plus that index.
 */
export async function extractSft(options: ExtractSftOptions): Promise<SftSummary> {
    if (!Number.isInteger(options.perProblem) || options.perProblem < 1) throw new RstarError("INVALID_ARGUMENT", "perProblem must be a positive integer");
    const summary: SftSummary = {
        kind: "sft", ...emptySummary(options.files),
        noGold: 0, problemsWithCorrect: 0, problemsWithRecords: 0, correctTrajectories: 0, trajectories: 0, droppedForError: 0, duplicateQuestions: 0,
    };
    interface Winner { ordinal: number; tag: string; meanQ: number; minQ: number }
    const pools = new Map<string, SftPool<Winner>>();
    const digests: string[] = [];
    await forEachTree(options, summary, "reading", async (tree, ordinal) => {
        const key = digest(tree.question);
        digests[ordinal] = key;
        let pool = pools.get(key);
        if (pool === undefined) pools.set(key, (pool = new SftPool<Winner>(options.perProblem)));
        else summary.duplicateQuestions += 1;
        if (tree.gold === null) summary.noGold += 1;
        const verdicts = tree.gold === null ? new Map<string, boolean>() : await gradeAnswers(options.grader, tree.gold, sftAnswerLeaves(tree));
        const correct = correctTrajectories(tree, (leaf) => verdicts.get(leaf.finalAnswer) === true);
        summary.correctTrajectories += correct.length;
        if (correct.length > 0) summary.problemsWithCorrect += 1;
        for (const trajectory of correct) pool.add({ ordinal, tag: trajectory.leaf.tag, meanQ: trajectory.meanQ, minQ: trajectory.minQ });
    });
    if (summary.aborted) return finish(summary);

    const winners = new Map<number, Winner[]>();
    for (const pool of pools.values()) {
        for (const winner of pool.top()) {
            let list = winners.get(winner.ordinal);
            if (list === undefined) winners.set(winner.ordinal, (list = []));
            list.push(winner);
        }
    }
    pools.clear();
    const secondPass = { ...emptySummary(options.files), records: 0 };
    await forEachTree({ ...options, onIssue: () => undefined }, secondPass, "writing", async (tree, ordinal) => {
        if (digests[ordinal] !== digest(tree.question)) {
            throw new RstarError("INVALID_INPUT", `the tree files changed while they were being read (record ${ordinal + 1} differs between the two passes)`);
        }
        const mine = winners.get(ordinal);
        if (mine === undefined) return;
        let written = 0;
        for (const winner of mine) {
            const leaf = tree.nodes.find((node) => node.tag === winner.tag);
            if (leaf === undefined) throw new RstarError("INVALID_INPUT", `the tree files changed while they were being read (record ${ordinal + 1} lost node ${winner.tag})`);
            const steps = stepsTo(leaf);
            const trajectory = { leaf, steps, text: steps.map((step) => step.text).join(""), meanQ: winner.meanQ, minQ: winner.minQ };
            if (containsError(trajectory.text)) {
                summary.droppedForError += 1;
                continue;
            }
            const record = officialSftRecord(tree.question, trajectory);
            await options.write(options.format === "trl" ? trlSftRecord(record) : record);
            written += 1;
        }
        summary.records += written;
        summary.trajectories += written;
        secondPass.records = summary.records;
        if (written > 0) summary.problemsWithRecords += 1;
    });
    summary.aborted = secondPass.aborted;
    return finish(summary, secondPass.durationMs);
}

function finish<S extends ExtractSummary>(summary: S, extraMs = 0): S {
    summary.durationMs += extraMs;
    return summary;
}

function digest(text: string): string {
    return createHash("sha256").update(text).digest("base64");
}

export async function extractPpm(options: ExtractPpmOptions): Promise<PpmSummary> {
    if (options.labelling === "grader" && options.grader === undefined) throw new RstarError("INVALID_ARGUMENT", 'labelling "grader" needs a grader');
    const summary: PpmSummary = {
        kind: "ppm", ...emptySummary(options.files),
        problemsWithPairs: 0, candidatePairs: 0, pairs: 0, finalAnswerPairs: 0, droppedByMargin: 0, droppedByEditDistance: 0, unlabeledTrees: 0,
    };
    await forEachTree(options, summary, "reading", async (tree) => {
        const answerLeaves = tree.nodes.filter(isValidFinalAnswer);
        let label: (node: TreeNode) => LeafLabel = officialLeafLabel;
        if (options.labelling === "grader") {
            const verdicts = tree.gold === null ? new Map<string, boolean>() : await gradeAnswers(options.grader as ExtractGrader, tree.gold, answerLeaves);
            label = (node) => {
                const verdict = isValidFinalAnswer(node) ? verdicts.get(node.finalAnswer) : undefined;
                return { correct: verdict === true, wrong: verdict === false };
            };
        }
        if (answerLeaves.length > 0 && !tree.nodes.some((node) => { const l = label(node); return l.correct || l.wrong; })) summary.unlabeledTrees += 1;
        const selection = selectPairs(tree, options, label);
        summary.candidatePairs += selection.candidates;
        summary.droppedByMargin += selection.droppedByMargin;
        summary.droppedByEditDistance += selection.droppedByEditDistance;
        const finalPairs = options.finalAnswerPairs === "paper" ? selectFinalAnswerPairs(tree, label) : [];
        if (selection.kept.length > 0 || finalPairs.length > 0) summary.problemsWithPairs += 1;
        for (const pair of selection.kept) {
            await options.write(options.format === "trl" ? trlPpmRecord(pair) : officialPpmRecord(pair));
            summary.records += 1;
            summary.pairs += 1;
        }
        for (const pair of finalPairs) {
            await options.write(options.format === "trl" ? trlFinalAnswerRecord(pair) : officialFinalAnswerRecord(pair));
            summary.records += 1;
            summary.pairs += 1;
            summary.finalAnswerPairs += 1;
        }
    });
    return summary;
}

function emptySummary(files: readonly string[]): Omit<ExtractSummary, never> {
    return { files: [...files], problems: 0, emptyTrees: 0, skipped: 0, ignoredNodes: 0, records: 0, durationMs: 0, aborted: false };
}

/** Grades each distinct final answer of `leaves` once. The grader's CAS being unavailable stops the extraction. */
async function gradeAnswers(grader: ExtractGrader, gold: string | readonly string[], leaves: readonly TreeNode[]): Promise<Map<string, boolean>> {
    const verdicts = new Map<string, boolean>();
    for (const leaf of leaves) {
        if (verdicts.has(leaf.finalAnswer)) continue;
        const judgement = await grader.judge(gold, leaf.finalAnswer);
        if (judgement.method === "cas-unavailable") throw new RstarError("GRADER_UNAVAILABLE", `grading needs sympy: ${judgement.reason ?? "CAS unavailable"}`);
        verdicts.set(leaf.finalAnswer, judgement.equal);
    }
    return verdicts;
}

/**
 * Streams the tree records of every file, in order, to `handle` with their ordinal among tree records (stable across
 * passes).
 */
async function forEachTree(
    options: ExtractCommonOptions,
    summary: ExtractSummary,
    phase: ExtractProgress["phase"],
    handle: (tree: ExtractionTree, ordinal: number) => Promise<void>,
): Promise<void> {
    const started = performance.now();
    const sizes = options.files.map((file) => {
        try {
            return statSync(file).size;
        } catch (error) {
            const code = (error as NodeJS.ErrnoException).code;
            throw new RstarError(code === "ENOENT" ? "FILE_NOT_FOUND" : "INVALID_INPUT", `cannot read tree file ${file}: ${(error as Error).message}`, { cause: error });
        }
    });
    const bytesTotal = sizes.reduce((a, b) => a + b, 0);
    let bytesRead = 0;
    const issue = (file: string, line: number, message: string) => {
        summary.skipped += 1;
        options.onIssue?.({ file, line, message });
    };
    outer: for (const file of options.files) {
        for await (const line of readJsonLines(file)) {
            if (options.signal?.aborted) {
                summary.aborted = true;
                break outer;
            }
            bytesRead += Buffer.byteLength(line.raw, "utf8") + 1;
            if (!line.ok) {
                issue(file, line.line, line.error);
                continue;
            }
            const read = readTreeRecord(line.value);
            if (read.kind === "malformed") issue(file, line.line, read.message);
            else if (read.kind === "empty") summary.emptyTrees += 1;
            else {
                summary.problems += 1;
                summary.ignoredNodes += read.tree.ignoredNodes;
                await handle(read.tree, summary.problems - 1);
            }
            options.onProgress?.({ phase, file, problems: summary.problems + summary.emptyTrees, records: summary.records, bytesRead, bytesTotal, elapsedMs: performance.now() - started });
        }
    }
    summary.durationMs = performance.now() - started;
}
