import type { Command } from "commander";
import { loadDataset } from "../../data/index.js";
import { RstarError } from "../../errors/index.js";
import { createSandbox } from "../../sandbox/index.js";
import {
    DEFAULT_TEACHER_ERROR_RATES,
    DEFAULT_TEACHER_MODEL,
    TEACHER_ERROR_FLAGS,
    TEACHER_ERROR_KINDS,
    TeacherBackend,
    measurePolicy,
    resolveErrorRates,
    scaleErrorRates,
    type TeacherErrorKind,
    type TeacherErrorRates,
} from "../../synth/index.js";
import { startRstarServer } from "../../serve/index.js";
import { apiKeyOption } from "./serve.js";
import { ExitCode, type ExitCodeValue } from "../exit-codes.js";
import { action, positiveInt } from "../run-command.js";

type RateFlags = Partial<Record<TeacherErrorKind, number>> & { errorScale?: number };

interface ServeFlags extends RateFlags {
    port: number;
    host: string;
    model: string;
    apiKey?: string;
}

interface EvalFlags extends RateFlags {
    data: string;
    k: number;
    limit?: number;
    seed: number;
    template: string;
    json?: boolean;
}

const RATE_HELP: Record<TeacherErrorKind, string> = {
    wrongNumber: "an operand is misread (another number)",
    wrongOperator: "the operator is wrong",
    codeError: "the step reads an undefined name (NameError)",
    skipFact: "a fact is skipped",
    distractor: "an irrelevant number is used",
    prematureAnswer: "an intermediate value is printed as the answer",
    repeatFact: "the fact just finished is applied again",
};

function addRateOptions(command: Command): Command {
    for (const kind of TEACHER_ERROR_KINDS) {
        command.option(`--${TEACHER_ERROR_FLAGS[kind]} <p>`, `per-step probability that ${RATE_HELP[kind]} (default ${DEFAULT_TEACHER_ERROR_RATES[kind]})`, probability(`--${TEACHER_ERROR_FLAGS[kind]}`));
    }
    return command.option("--error-scale <x>", "multiply every error rate by x (0: a perfect teacher)", nonNegative("--error-scale"));
}

function ratesFrom(flags: RateFlags): TeacherErrorRates {
    try {
        return resolveErrorRates(scaleErrorRates(flags, flags.errorScale));
    } catch (error) {
        throw new RstarError("INVALID_ARGUMENT", (error as Error).message);
    }
}

export function register(program: Command): void {
    const teacher = program.command("teacher").description("the noisy teacher policy for synthetic problems (stands in for the paper's large bootstrap model)");

    const serve = teacher
        .command("serve")
        .description("serve the teacher through rstar serve's OpenAI-compatible server (vLLM response shapes) until interrupted")
        .option("--port <port>", "port (0 picks a free one)", port, 8000)
        .option("--host <host>", "interface to listen on", "127.0.0.1")
        .option("--model <name>", "model name to serve", DEFAULT_TEACHER_MODEL)
        .option("--api-key <key>", "require Authorization: Bearer <key> (default: env RSTAR_SERVE_API_KEY; none)");
    addRateOptions(serve)
        .addHelpText(
            "after",
            `
The same server as rstar serve, with the teacher as its policy: GET /v1/models, POST /v1/completions and
/v1/chat/completions (prompt or messages, n, temperature, seed, max_tokens (default 512), stop, stream; choices
carry stop_reason). The teacher reads rStar prompts (sftPrompt or bootstrapPrompt) of synthetic problems and writes
the next step. Prints the base URL on stdout once listening; Ctrl-C stops it.

Example:
  rstar teacher serve --port 8000 --error-scale 0.5
  rstar solve "Maya has 12 apples. Maya buys 5 more apples. How many apples does Maya have now?" \\
      --policy-url http://127.0.0.1:8000/v1 --model ${DEFAULT_TEACHER_MODEL}

Exit codes: 0 stopped; 2 bad usage (bad rate, port in use).`,
        )
        .action(action("teacher serve", (flags: ServeFlags) => serveCommand(flags)));

    const evaluate = teacher
        .command("eval")
        .description("measure the teacher on a dataset: greedy accuracy and pass@k, through step-by-step generation with code execution")
        .requiredOption("--data <file>", "dataset (JSON array or JSONL of {question, answer}), e.g. test.jsonl from `rstar synth generate`")
        .option("--k <n>", "samples per problem at temperature 1 for pass@k", positiveInt("--k"), 8)
        .option("--limit <n>", "use only the first n problems", positiveInt("--limit"))
        .option("--seed <n>", "sampling seed", (value) => Number.parseInt(value, 10), 0)
        .option("--template <name>", "prompt template: sft or bootstrap", "sft")
        .option("--json", "print the measurement as JSON (with per-problem outcomes)");
    addRateOptions(evaluate)
        .addHelpText("after", "\nExit codes: 0 ok; 2 bad usage or unreadable dataset; 3 no usable Python.")
        .action(action("teacher eval", (flags: EvalFlags) => evalCommand(flags)));
}

async function serveCommand(flags: ServeFlags): Promise<ExitCodeValue> {
    const teacher = new TeacherBackend({ model: flags.model, errorRates: ratesFrom(flags) });
    const server = await startRstarServer({ policy: teacher, defaultMaxTokens: TEACHER_DEFAULT_MAX_TOKENS, port: flags.port, host: flags.host, ...apiKeyOption(flags.apiKey) });
    process.stdout.write(`${server.baseURL}\n`);
    process.stderr.write(`teacher "${teacher.model}" listening at ${server.baseURL} (Ctrl-C to stop)\n`);
    await new Promise<void>((resolve) => {
        const stop = () => {
            process.off("SIGINT", stop);
            process.off("SIGTERM", stop);
            resolve();
        };
        process.on("SIGINT", stop);
        process.on("SIGTERM", stop);
    });
    await server.close();
    await teacher.dispose();
    return ExitCode.ok;
}

/** max_tokens of a request that gives none: a teacher step can be longer than rstar serve's default of 256. */
const TEACHER_DEFAULT_MAX_TOKENS = 512;

async function evalCommand(flags: EvalFlags): Promise<ExitCodeValue> {
    if (flags.template !== "sft" && flags.template !== "bootstrap") throw new RstarError("INVALID_ARGUMENT", `--template must be sft or bootstrap, got "${flags.template}"`);
    if (!Number.isInteger(flags.seed)) throw new RstarError("INVALID_ARGUMENT", "--seed must be an integer");
    const problems = (await loadDataset(flags.data)).slice(0, flags.limit ?? Infinity);
    const usable = problems.flatMap((problem) => (typeof problem.answer === "string" ? [{ question: problem.question, answer: problem.answer }] : []));
    if (usable.length === 0) throw new RstarError("INVALID_INPUT", `${flags.data}: no problems with a single gold answer`);
    const backend = new TeacherBackend({ errorRates: ratesFrom(flags) });
    await using sandbox = await createSandbox({ workers: 2, spares: 0, preload: [] });
    const started = Date.now();
    const measurement = await measurePolicy(usable, backend, sandbox, {
        k: flags.k,
        seed: flags.seed,
        template: flags.template,
        onProblem: (done, total) => {
            if (process.stderr.isTTY) process.stderr.write(`\r${done}/${total} problems`);
        },
    });
    if (process.stderr.isTTY) process.stderr.write("\n");
    if (flags.json) {
        process.stdout.write(JSON.stringify({ data: flags.data, errorRates: backend.errorRates, ...measurement }) + "\n");
    } else {
        const percent = (x: number) => `${(100 * x).toFixed(1)}%`;
        process.stdout.write(
            `${flags.data}: ${measurement.problems} problems, ${((Date.now() - started) / 1000).toFixed(1)} s\n` +
                `${"greedy accuracy".padEnd(24)}${percent(measurement.greedyAccuracy)}\n` +
                `${"sample accuracy (T=1)".padEnd(24)}${percent(measurement.sampleAccuracy)}\n` +
                `${`pass@${measurement.k} (T=1)`.padEnd(24)}${percent(measurement.passAtK)}\n`,
        );
    }
    return ExitCode.ok;
}

function probability(flag: string): (value: string) => number {
    return (value) => {
        const parsed = Number(value);
        if (value.trim() === "" || !(parsed >= 0 && parsed <= 1)) throw new RstarError("INVALID_ARGUMENT", `${flag} must be a probability in [0, 1], got "${value}"`);
        return parsed;
    };
}

function nonNegative(flag: string): (value: string) => number {
    return (value) => {
        const parsed = Number(value);
        if (value.trim() === "" || !(parsed >= 0) || !Number.isFinite(parsed)) throw new RstarError("INVALID_ARGUMENT", `${flag} must be a number >= 0, got "${value}"`);
        return parsed;
    };
}

function port(value: string): number {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < 0 || parsed > 65535) throw new RstarError("INVALID_ARGUMENT", `--port must be an integer in 0..65535, got "${value}"`);
    return parsed;
}
