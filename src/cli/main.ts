#!/usr/bin/env node
import { Command, CommanderError } from "commander";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { packageRoot } from "../util/index.js";
import { ExitCode } from "./exit-codes.js";
import { RstarError, describeError } from "../errors/index.js";

// `rstar ... | head` closes stdout early: that is not an error.
for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (error: NodeJS.ErrnoException) => {
        if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
        throw error;
    });
}

const version = (JSON.parse(readFileSync(join(packageRoot(), "package.json"), "utf8")) as { version: string }).version;

const program = new Command("rstar")
    .description("rStar-Math: small LLMs reasoning with verified code steps, tree search and process preference models")
    .version(version)
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride()
    .addHelpText(
        "after",
        `
Exit codes: 0 ok; 1 finished but some input records were malformed; 2 bad usage or input;
3 environment problem (Python, server); 70 internal error.`,
    );

const commandModules = [
    // Each module registers one command; order is the order in --help.
    "./commands/grade.js",
    "./commands/exec.js",
    "./commands/search.js",
    "./commands/solve.js",
    "./commands/demo.js",
    "./commands/eval.js",
    "./commands/report.js",
    "./commands/extract.js",
    "./commands/synth.js",
    "./commands/teacher.js",
    "./commands/serve.js",
    "./commands/train.js",
    "./commands/evolve.js",
];

for (const modulePath of commandModules) {
    const module = (await import(modulePath)) as { register: (program: Command) => void };
    module.register(program);
}

try {
    await program.parseAsync(process.argv);
} catch (error) {
    if (error instanceof CommanderError) {
        // --help and --version exit through here with code 0; anything else is a usage error.
        process.exitCode = error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    } else if (RstarError.isInstance(error) && error.code === "INVALID_ARGUMENT") {
        process.stderr.write(`rstar: ${describeError(error)}\n`);
        process.exitCode = ExitCode.usage;
    } else {
        process.stderr.write(`rstar: ${describeError(error)}\n`);
        process.exitCode = ExitCode.internal;
    }
}
