import { type Command } from "commander";
import { readFile, stat } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { z } from "zod";
import { InputError, RstarError } from "../../errors/index.js";
import { createSandbox, type ExecResult, type Sandbox, type SandboxOptions } from "../../sandbox/index.js";
import { readJsonLines } from "../../util/index.js";
import { ExitCode, type ExitCodeValue } from "../exit-codes.js";
import { action, positiveInt } from "../run-command.js";

interface ExecFlags {
    file?: string;
    batch?: string;
    json?: boolean;
    timeoutMs?: number;
    concurrency?: number;
    isolation?: boolean;
    prefixReuse?: boolean;
}

const recordSchema = z.object({ id: z.union([z.string(), z.number()]), code: z.string() });

export function register(program: Command): void {
    program
        .command("exec")
        .description("run Python code steps in the sandbox and print their rStar observations")
        .option("--file <path>", "run one program from a file and print its observation")
        .option("--batch <path>", 'run every {"id","code"} line of a JSONL file ("-": stdin); print one result line each, in input order')
        .option("--json", "with --file: print {ok, observation, error, timedOut, durationMs} instead of the observation")
        .option("--timeout-ms <n>", "wall-clock limit per program in milliseconds (default 10000)", positiveInt("--timeout-ms"))
        .option("--concurrency <n>", "with --batch: programs run at once (default: number of cores)", positiveInt("--concurrency"))
        .option("--no-prefix-reuse", "run every program in full (by default a program that extends an earlier one at a line break runs only its new code on a copy of the state the earlier one left)")
        .option("--isolation", "print which isolation layers are active (JSON) and exit")
        .addHelpText(
            "after",
            `
A failing program is a result, not a command failure: exit code 0 when every program was answered.
Batch output lines: {"id", "ok", "observation", "error": {"type","message"}|null, "timedOut", "durationMs"}.
Exit codes: 0 ok; 1 some input lines were malformed (each reported on stderr as file:line, field);
2 bad usage or unusable input (missing file); 3 no Python with sympy and numpy. See docs/sandbox.md.`,
        )
        .action(action("exec", (flags: ExecFlags) => execCommand(flags)));
}

async function execCommand(flags: ExecFlags): Promise<ExitCodeValue> {
    const modes = [flags.file, flags.batch, flags.isolation].filter((value) => value !== undefined).length;
    if (modes !== 1) throw new RstarError("INVALID_ARGUMENT", "give exactly one of --file, --batch or --isolation");
    if (flags.concurrency !== undefined && flags.batch === undefined) throw new RstarError("INVALID_ARGUMENT", "--concurrency needs --batch");
    if (flags.json && flags.file === undefined) throw new RstarError("INVALID_ARGUMENT", "--json needs --file (batch output is always JSON)");
    const base: SandboxOptions = flags.timeoutMs === undefined ? {} : { timeoutMs: flags.timeoutMs };
    if (flags.prefixReuse === false) base.prefixReuse = false;
    if (flags.isolation) {
        await using sandbox = await createSandbox({ ...base, workers: 1, spares: 0 });
        process.stdout.write(JSON.stringify(sandbox.isolation, null, 2) + "\n");
        return ExitCode.ok;
    }
    if (flags.file !== undefined) return runFile(flags.file, flags.json ?? false, base);
    return runBatch(flags.batch as string, flags.concurrency ?? availableParallelism(), base);
}

async function runFile(path: string, json: boolean, base: SandboxOptions): Promise<ExitCodeValue> {
    let code: string;
    try {
        code = await readFile(path, "utf8");
    } catch (error) {
        throw new RstarError("FILE_NOT_FOUND", `cannot read ${path}: ${(error as Error).message}`, { cause: error });
    }
    await using sandbox = await createSandbox({ ...base, workers: 1, spares: 0 });
    const result = await sandbox.run(code);
    process.stdout.write(json ? JSON.stringify(result) + "\n" : result.observation + "\n");
    return ExitCode.ok;
}

async function runBatch(path: string, concurrency: number, base: SandboxOptions): Promise<ExitCodeValue> {
    if (path !== "-") {
        try {
            await stat(path);
        } catch (error) {
            throw new RstarError("FILE_NOT_FOUND", `cannot read ${path}: ${(error as Error).message}`, { cause: error });
        }
    }
    await using sandbox = await createSandbox({ ...base, workers: concurrency, spares: 1 });
    const writer = new OrderedWriter();
    const window = concurrency * 8;
    const inFlight = new Set<Promise<void>>();
    let malformed = 0;
    for await (const line of readJsonLines(path)) {
        const record = line.ok ? recordSchema.safeParse(line.value) : undefined;
        if (!line.ok || record === undefined || !record.success) {
            malformed += 1;
            const issue = record !== undefined && !record.success ? record.error.issues[0] : undefined;
            const field = issue?.path.join(".") || undefined;
            const problem = !line.ok ? line.error : (issue?.message ?? "invalid record");
            const error = new InputError(`${problem}; expected {"id": string|number, "code": string}`, { file: path, line: line.line, ...(field ? { field } : {}) });
            process.stderr.write(`rstar exec: ${error.message}\n`);
            continue;
        }
        const slot = writer.reserve();
        const { id, code } = record.data;
        const task = runOne(sandbox, code).then((result) => writer.fill(slot, JSON.stringify({ id, ...result }) + "\n"));
        inFlight.add(task);
        void task.finally(() => inFlight.delete(task));
        if (inFlight.size >= window) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    return malformed > 0 ? ExitCode.someRecordsMalformed : ExitCode.ok;
}

function runOne(sandbox: Sandbox, code: string): Promise<ExecResult> {
    return sandbox.run(code);
}

/** Writes lines in reservation order as soon as every earlier line is known (streamed, input order). */
class OrderedWriter {
    private next = 0;
    private reserved = 0;
    private readonly ready = new Map<number, string>();

    reserve(): number {
        return this.reserved++;
    }

    fill(slot: number, text: string): void {
        this.ready.set(slot, text);
        let chunk = "";
        while (this.ready.has(this.next)) {
            chunk += this.ready.get(this.next);
            this.ready.delete(this.next);
            this.next += 1;
        }
        if (chunk) process.stdout.write(chunk);
    }
}
