import { Option, type Command } from "commander";
import { createWriteStream, existsSync, mkdirSync, statSync, type WriteStream } from "node:fs";
import { dirname, resolve } from "node:path";
import {
    EXTRACT_FORMATS,
    FINAL_ANSWER_PAIRS,
    OFFICIAL_PPM_OPTIONS,
    extractPpm,
    extractSft,
    type ExtractFormat,
    type ExtractIssue,
    type ExtractProgress,
    type FinalAnswerPairs,
    type PpmLabelling,
    type PpmSummary,
    type SftSummary,
} from "../../data/index.js";
import { RstarError } from "../../errors/index.js";
import { createGrader, type Grader } from "../../grading/index.js";
import { runPaths } from "../../runs/index.js";
import { ExitCode, type ExitCodeValue } from "../exit-codes.js";
import { formatDuration } from "../progress-display.js";
import { action, positiveInt } from "../run-command.js";
import { integer, number } from "../search-options.js";

interface InputFlags {
    run?: string;
    trees?: string[];
    out?: string;
    format: ExtractFormat;
    json?: boolean;
    quiet?: boolean;
    graderTimeoutMs?: number;
}

interface SftFlags extends InputFlags {
    perProblem: number;
}

interface PpmFlags extends InputFlags {
    minMargin: number;
    minEditDistance: number;
    label: PpmLabelling;
    finalPairs: FinalAnswerPairs;
}

/** Malformed records printed one by one before the rest are only counted. */
const MAX_PRINTED_ISSUES = 100;

const COMMON_HELP = `
Input: --run DIR reads DIR/trees.jsonl; --trees takes any tree JSONL in the official rStar format (one
{question, answer, rstar} record per line), including the official implementation's own output. Files are
streamed one tree at a time. A malformed line is reported with its file and line and skipped.
Output: JSONL, one record per line, in input order (the official scripts shuffle and write a JSON array).
Counts go to stderr (with progress every few seconds on long inputs); --json prints the summary on stdout.
Exit codes: 0 ok; 1 some input lines were malformed (the rest were extracted); 2 bad usage or a missing file;
3 no Python with sympy when grading needed it; 130 interrupted (records written so far are kept).
See docs/extraction.md for how the selection matches the official scripts.`;

function addInputOptions(command: Command): Command {
    return command
        .option("--run <dir>", "run directory written by `rstar search` (reads DIR/trees.jsonl)")
        .option("--trees <files...>", "tree JSONL files in the official format")
        .requiredOption("--out <file>", "output JSONL file (parent folders are created)")
        .addOption(new Option("--format <format>", 'record format: "official" or "trl"').choices([...EXTRACT_FORMATS]).default("official"))
        .option("--grader-timeout-ms <ms>", "CAS time budget per answer comparison (default 10000)", positiveInt("--grader-timeout-ms"))
        .option("--json", "print the summary as JSON on stdout")
        .option("--quiet", "no progress lines (counts are still printed)");
}

export function register(program: Command): void {
    const extract = program
        .command("extract")
        .description("extract training data from search trees: policy SFT records (sft) and PPM step preference pairs (ppm)");

    addInputOptions(
        extract
            .command("sft")
            .description("SFT records: per question, the top correct trajectories by (mean Q, min Q), as extra_sft_file.py + train/sample_sft_data.py")
            .addOption(new Option("--per-problem <n>", "trajectories kept per question (records repeating a question are pooled), before dropping those containing \"error\" (official --n)").default(2).argParser(integer("--per-problem"))),
    )
        .addHelpText(
            "after",
            `
Correctness: each answer leaf's final answer is graded against the record's "answer" with the rstar grader
(the official script calls math_equiv the same way); trees without an answer give no records.
The files are read twice: first to grade and rank, then to write the winners.
Formats: official {"query", "response"}; trl {"prompt", "completion"} where prompt is the official
training prompt around the query ("<|user|>:\\n" + query + "\\n<|assistant|>: Let's think step by step ...").
${COMMON_HELP}

Examples:
  rstar extract sft --run runs/gsm8k-r1 --out data/sft.jsonl
  rstar extract sft --trees round1/*.jsonl --out data/sft-trl.jsonl --format trl --per-problem 4 --json`,
        )
        .action(action("extract sft", async (flags: SftFlags) => sftCommand(flags)));

    addInputOptions(
        extract
            .command("ppm")
            .description("PPM preference pairs: at each node, best correct-reaching vs worst wrong-reaching children, as extra_rm_file.py + train/sample_rm_data.py")
            .addOption(new Option("--min-margin <q>", "keep a pair when Q(pos) - Q(neg) >= this").default(OFFICIAL_PPM_OPTIONS.minMargin).argParser(number("--min-margin")))
            .addOption(
                new Option("--min-edit-distance <n>", "keep a pair when the two steps differ by at least this many character edits")
                    .default(OFFICIAL_PPM_OPTIONS.minEditDistance)
                    .argParser(integer("--min-edit-distance", 0)),
            )
            .addOption(
                new Option("--label <how>", 'which leaves are correct/wrong: "q" (official: terminal Q of exactly 1 / -1) or "grader" (grade the final answer against "answer")')
                    .choices(["q", "grader"])
                    .default("q"),
            )
            .addOption(
                new Option("--final-pairs <rule>", 'pairs for the final-answer step: "official" (sibling pairs only, as extra_rm_file.py) or "paper" (also the 2 correct trajectories with the highest mean Q against the 2 wrong ones with the lowest, whole trajectories after the question prompt)')
                    .choices([...FINAL_ANSWER_PAIRS])
                    .default("official"),
            ),
    )
        .addHelpText(
            "after",
            `
Formats: official {"prompt", "neg", "pos", "neg_count", "pos_count"}; trl {"prompt", "chosen", "rejected"}
(prompt is the question prompt plus the shared steps; chosen/rejected are the next step).
${COMMON_HELP}

Examples:
  rstar extract ppm --run runs/gsm8k-r1 --out data/ppm.jsonl
  rstar extract ppm --trees trees.jsonl --out data/pairs-trl.jsonl --format trl --min-margin 0.6`,
        )
        .action(action("extract ppm", async (flags: PpmFlags) => ppmCommand(flags)));
}

function inputFiles(flags: InputFlags): string[] {
    if (flags.run !== undefined && flags.trees !== undefined) throw new RstarError("INVALID_ARGUMENT", "use either --run or --trees, not both");
    if (flags.run === undefined && flags.trees === undefined) throw new RstarError("INVALID_ARGUMENT", "give --run DIR or --trees FILE... (see --help)");
    if (flags.run !== undefined) {
        if (!existsSync(flags.run) || !statSync(flags.run).isDirectory()) throw new RstarError("FILE_NOT_FOUND", `${flags.run}: no such run directory`);
        const trees = runPaths(flags.run).trees;
        if (!existsSync(trees)) throw new RstarError("FILE_NOT_FOUND", `${trees}: no trees.jsonl in the run directory (has the search exported any problem?)`);
        return [trees];
    }
    const files = flags.trees as string[];
    for (const file of files) if (!existsSync(file)) throw new RstarError("FILE_NOT_FOUND", `${file}: no such file`);
    return files;
}

/** The output stream, with a write that waits when the stream's buffer is full. */
function openOutput(path: string): { write: (record: object) => Promise<void>; close: () => Promise<void> } {
    mkdirSync(dirname(path), { recursive: true });
    const stream: WriteStream = createWriteStream(path, { encoding: "utf8" });
    let failure: Error | null = null;
    stream.on("error", (error) => (failure = error));
    return {
        write: async (record) => {
            if (failure !== null) throw new RstarError("INVALID_INPUT", `cannot write ${path}: ${(failure as Error).message}`);
            if (!stream.write(JSON.stringify(record) + "\n")) await new Promise<void>((resolve) => stream.once("drain", () => resolve()));
        },
        close: () =>
            new Promise<void>((resolve, reject) => {
                stream.end(() => (failure === null ? resolve() : reject(new RstarError("INVALID_INPUT", `cannot write ${path}: ${(failure as Error).message}`))));
            }),
    };
}

/** Progress on stderr: nothing for short inputs; then a line every 5 s (or one line kept up to date on a terminal). */
class ExtractProgressLine {
    private last = Number.NEGATIVE_INFINITY;
    private shown = false;
    private readonly interactive = Boolean(process.stderr.isTTY);

    constructor(private readonly label: string, private readonly quiet: boolean) {}

    update(progress: ExtractProgress): void {
        if (this.quiet || progress.elapsedMs < 2_000) return;
        const now = performance.now();
        if (now - this.last < (this.interactive ? 250 : 5_000)) return;
        this.last = now;
        const line = `${this.label} (${progress.phase}): ${progress.problems} problems, ${progress.records} records, ${megabytes(progress.bytesRead)}/${megabytes(progress.bytesTotal)} MB (${percent(progress.bytesRead, progress.bytesTotal)}), elapsed ${formatDuration(progress.elapsedMs)}`;
        if (this.interactive) {
            process.stderr.write(`\r\x1b[2K${line}`);
            this.shown = true;
        } else process.stderr.write(line + "\n");
    }

    stop(): void {
        if (this.shown) process.stderr.write("\r\x1b[2K");
        this.shown = false;
    }
}

function megabytes(bytes: number): string {
    return (bytes / 1e6).toFixed(1);
}

function percent(part: number, total: number): string {
    return total === 0 ? "100%" : `${Math.min(100, (100 * part) / total).toFixed(0)}%`;
}

/** Runs an extraction with the shared plumbing: inputs, output, issues, progress, Ctrl-C, grader disposal. */
async function runExtraction<S extends SftSummary | PpmSummary>(
    label: string,
    flags: InputFlags,
    needsGrader: boolean,
    body: (context: { files: string[]; grader: Grader | undefined; common: CommonCallbacks }) => Promise<S>,
): Promise<{ summary: S; issuesPrinted: number }> {
    const files = inputFiles(flags);
    const out = resolve(flags.out as string);
    if (files.some((file) => resolve(file) === out)) throw new RstarError("INVALID_ARGUMENT", `--out ${flags.out} is one of the input files`);
    const output = openOutput(flags.out as string);
    const grader = needsGrader ? createGrader(flags.graderTimeoutMs === undefined ? {} : { timeoutMs: flags.graderTimeoutMs }) : undefined;
    const progress = new ExtractProgressLine(label, flags.quiet ?? false);
    const controller = new AbortController();
    const interrupt = () => controller.abort();
    process.once("SIGINT", interrupt);
    process.once("SIGTERM", interrupt);
    let issuesPrinted = 0;
    const common: CommonCallbacks = {
        format: flags.format,
        write: output.write,
        signal: controller.signal,
        onProgress: (p) => progress.update(p),
        onIssue: (issue: ExtractIssue) => {
            if (issuesPrinted >= MAX_PRINTED_ISSUES) return;
            issuesPrinted += 1;
            progress.stop();
            process.stderr.write(`rstar ${label}: ${issue.file}:${issue.line}: ${issue.message} (skipped)\n`);
        },
    };
    try {
        const summary = await body({ files, grader, common });
        return { summary, issuesPrinted };
    } finally {
        progress.stop();
        process.off("SIGINT", interrupt);
        process.off("SIGTERM", interrupt);
        grader?.dispose();
        await output.close();
    }
}

interface CommonCallbacks {
    format: ExtractFormat;
    write: (record: object) => Promise<void>;
    signal: AbortSignal;
    onProgress: (progress: ExtractProgress) => void;
    onIssue: (issue: ExtractIssue) => void;
}

async function sftCommand(flags: SftFlags): Promise<ExitCodeValue> {
    const { summary, issuesPrinted } = await runExtraction("extract sft", flags, true, ({ files, grader, common }) =>
        extractSft({ ...common, files, grader: grader as Grader, perProblem: flags.perProblem }),
    );
    report(summary, flags, issuesPrinted, [
        `problems     ${summary.problems} (${summary.problemsWithCorrect} with a correct trajectory, ${summary.problemsWithRecords} with records, ${summary.noGold} without an answer)`,
        `trajectories ${summary.trajectories} written of ${summary.correctTrajectories} correct (at most ${flags.perProblem} per question; ${summary.droppedForError} dropped for "error")`,
        ...(summary.duplicateQuestions > 0
            ? [`note         ${summary.duplicateQuestions} records repeat an earlier question; their trajectories were ranked together, as sample_sft_data.py does`]
            : []),
    ]);
    return exitCode(summary);
}

async function ppmCommand(flags: PpmFlags): Promise<ExitCodeValue> {
    const { summary, issuesPrinted } = await runExtraction("extract ppm", flags, flags.label === "grader", ({ files, grader, common }) =>
        extractPpm({
            ...common,
            files,
            minMargin: flags.minMargin,
            minEditDistance: flags.minEditDistance,
            labelling: flags.label,
            finalAnswerPairs: flags.finalPairs,
            ...(grader === undefined ? {} : { grader }),
        }),
    );
    report(summary, flags, issuesPrinted, [
        `problems     ${summary.problems} (${summary.problemsWithPairs} with pairs)`,
        `pairs        ${summary.pairs - summary.finalAnswerPairs} written of ${summary.candidatePairs} candidates (${summary.droppedByMargin} below margin ${flags.minMargin}, ${summary.droppedByEditDistance} below edit distance ${flags.minEditDistance})${flags.finalPairs === "paper" ? `, plus ${summary.finalAnswerPairs} final-answer pairs (paper rule)` : ""}`,
        ...(summary.unlabeledTrees > 0 && flags.label === "q"
            ? [`warning      ${summary.unlabeledTrees} trees have answers but no terminal Q of exactly 1 or -1 (searched without ground-truth rewards?); try --label grader`]
            : []),
    ]);
    return exitCode(summary);
}

function report(summary: SftSummary | PpmSummary, flags: InputFlags, issuesPrinted: number, lines: string[]): void {
    const skipped = summary.skipped > issuesPrinted ? `${summary.skipped} (first ${issuesPrinted} shown above)` : String(summary.skipped);
    process.stderr.write(
        [
            ...lines,
            `skipped      ${skipped} malformed lines${summary.emptyTrees > 0 ? `, ${summary.emptyTrees} records without a tree` : ""}`,
            `output       ${flags.out} (${summary.records} records, ${flags.format} format)${summary.aborted ? " — interrupted, incomplete" : ""}`,
            `time         ${formatDuration(summary.durationMs)}`,
        ].join("\n") + "\n",
    );
    if (flags.json === true) process.stdout.write(JSON.stringify({ ...summary, out: flags.out, format: flags.format }) + "\n");
}

function exitCode(summary: SftSummary | PpmSummary): ExitCodeValue {
    if (summary.aborted) return ExitCode.interrupted;
    return summary.skipped > 0 ? ExitCode.someRecordsMalformed : ExitCode.ok;
}
