import { createWriteStream, existsSync, type WriteStream } from "node:fs";
import type { Command } from "commander";
import { InputError, RstarError } from "../../errors/index.js";
import { createGrader, type Grader } from "../../grading/index.js";
import { isPlainObject, readJsonLines } from "../../util/index.js";
import { action, positiveInt } from "../run-command.js";
import { ExitCode, type ExitCodeValue } from "../exit-codes.js";

interface GradeFlags {
    gold?: string;
    pred?: string;
    file?: string;
    out?: string;
    json?: boolean;
    extract?: boolean;
    timeoutMs?: number;
    cas?: boolean;
}

export function register(program: Command): void {
    program
        .command("grade")
        .description("Judge whether a predicted answer equals the gold answer (typed parse, exact arithmetic, sympy for symbolic cases)")
        .option("--gold <answer>", "gold answer (LaTeX)")
        .option("--pred <answer>", "predicted answer: a LaTeX answer or raw model text (its final answer is taken out, see --no-extract)")
        .option("--file <path>", 'JSONL file ("-" for stdin) of records with "gold" (string or list of strings) and "pred"; each is written back with "equal" set')
        .option("--out <path>", "with --file: write the records here instead of stdout")
        .option("--json", 'with --gold/--pred: print {"equal", "method", "reason", "extracted"} instead of true/false')
        .option("--no-extract", "compare pred exactly as given, without taking a final answer out of it")
        .option("--extract", "the default, kept for old scripts: grade the last \\boxed{...}/\\fbox{...} in pred, else \"the answer is ...\", else all of pred")
        .option("--timeout-ms <ms>", "CAS time budget per pair in milliseconds (default 10000)", positiveInt("--timeout-ms"))
        .option("--no-cas", "fast path only: pairs that need sympy are judged false")
        .addHelpText(
            "after",
            `
Examples:
  rstar grade --gold '\\frac{1}{2}' --pred 0.5                  prints true
  rstar grade --gold 3 --pred 'so x = \\boxed{3}.' --json      {"equal":true,"method":"fast","extracted":"3"}
  rstar grade --gold 7 --pred 'The answer is 7.'              prints true
  rstar grade --gold 2 --pred 'not \\boxed{1} but \\boxed{2}' --no-extract   prints false: pred compared as given
  rstar grade --file cases.jsonl --out graded.jsonl

pred may be raw model text: the answer graded is its last \\boxed{...} or \\fbox{...} (also \\boxed 7), else the
last "The final answer is ...", "the answer is ...", "Answer: ..." or "#### ..." phrase, else the whole of pred.
An empty gold answer is an input error.

Exit codes: 0 ok; 1 some --file lines were malformed or had an empty gold answer (each gets an "error" field naming
the line and field, the rest are graded); 2 bad usage, an empty --gold or a missing file; 3 no Python with sympy
when one was needed.`,
        )
        .action(action("grade", (flags: GradeFlags) => grade(flags)));
}

async function grade(flags: GradeFlags): Promise<ExitCodeValue> {
    const single = flags.gold !== undefined || flags.pred !== undefined;
    if (single && flags.file !== undefined) throw new RstarError("INVALID_ARGUMENT", "use either --gold/--pred or --file, not both");
    if (!single && flags.file === undefined) throw new RstarError("INVALID_ARGUMENT", "give --gold and --pred, or --file (see --help)");
    if (single && (flags.gold === undefined || flags.pred === undefined)) throw new RstarError("INVALID_ARGUMENT", "--gold and --pred go together");
    if (flags.out !== undefined && flags.file === undefined) throw new RstarError("INVALID_ARGUMENT", "--out needs --file");
    if (single && (flags.gold as string).trim() === "") throw new InputError("--gold: the gold answer is empty; give the answer to compare against");
    const grader = createGrader({ ...(flags.timeoutMs === undefined ? {} : { timeoutMs: flags.timeoutMs }), cas: flags.cas !== false });
    try {
        if (single) return await gradeOne(grader, flags.gold as string, flags.pred as string, flags);
        return await gradeFile(grader, flags.file as string, flags);
    } finally {
        grader.dispose();
    }
}

async function gradeOne(grader: Grader, gold: string, pred: string, flags: GradeFlags): Promise<ExitCodeValue> {
    const judgement = await grader.judge(gold, pred, { extract: flags.extract !== false });
    if (judgement.method === "cas-unavailable") throw new RstarError("GRADER_UNAVAILABLE", judgement.reason ?? "CAS unavailable");
    process.stdout.write(flags.json === true ? JSON.stringify(judgement) + "\n" : `${judgement.equal}\n`);
    return ExitCode.ok;
}

async function gradeFile(grader: Grader, path: string, flags: GradeFlags): Promise<ExitCodeValue> {
    if (path !== "-" && !existsSync(path)) throw new RstarError("FILE_NOT_FOUND", `${path}: no such file`);
    let out: WriteStream | undefined;
    if (flags.out !== undefined) out = createWriteStream(flags.out, { encoding: "utf8" });
    const write = async (line: string): Promise<void> => {
        const target = out ?? process.stdout;
        if (!target.write(line + "\n")) await new Promise<void>((resolve) => target.once("drain", () => resolve()));
    };
    let malformed = false;
    try {
        for await (const record of readJsonLines(path)) {
            const where = `${path}:${record.line}`;
            if (!record.ok) {
                malformed = true;
                await write(JSON.stringify({ line: record.line, raw: record.raw, error: `${where}: ${record.error}` }));
                continue;
            }
            if (!isPlainObject(record.value)) {
                malformed = true;
                await write(JSON.stringify({ line: record.line, value: record.value, error: `${where}: a record must be a JSON object` }));
                continue;
            }
            const value = record.value;
            const gold = value["gold"];
            const pred = value["pred"];
            const goldOk = typeof gold === "string" || (Array.isArray(gold) && gold.length > 0 && gold.every((g) => typeof g === "string"));
            const goldEmpty = goldOk && (typeof gold === "string" ? [gold] : (gold as string[])).some((g) => g.trim() === "");
            const problem = !goldOk
                ? `field "gold" must be a string or a non-empty list of strings`
                : goldEmpty
                  ? `field "gold" is empty: an empty gold answer matches nothing`
                  : typeof pred !== "string"
                  ? `field "pred" must be a string`
                  : undefined;
            if (problem !== undefined) {
                malformed = true;
                const { equal: _dropped, ...rest } = value;
                await write(JSON.stringify({ ...rest, error: `${where}: ${problem}` }));
                continue;
            }
            const judgement = await grader.judge(gold as string | string[], pred as string, { extract: flags.extract !== false });
            if (judgement.method === "cas-unavailable") throw new RstarError("GRADER_UNAVAILABLE", judgement.reason ?? "CAS unavailable");
            await write(JSON.stringify({ ...value, equal: judgement.equal }));
        }
    } finally {
        if (out !== undefined) await new Promise<void>((resolve) => (out as WriteStream).end(() => resolve()));
    }
    return malformed ? ExitCode.someRecordsMalformed : ExitCode.ok;
}
