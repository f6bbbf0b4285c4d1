#!/usr/bin/env node
import { Command, CommanderError, Help } from "commander";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { packageRoot } from "../util/index.js";
import { commandModules } from "./command-list.js";
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

const terms = new Map(commandModules.flatMap((entry) => (typeof entry === "string" ? [] : [[entry.name, entry.term] as const])));
program.configureHelp({ subcommandTerm: (command) => terms.get(command.name()) ?? new Help().subcommandTerm(command) });

type CommandModule = { register: (program: Command) => void };

// The command this invocation runs (or asks help for): the first argument that is not an option, or the one after `help`.
const words = process.argv.slice(2).filter((word) => !word.startsWith("-"));
const invoked = words[0] === "help" ? words[1] : words[0];
for (const entry of commandModules) {
    if (typeof entry === "string") {
        ((await import(entry)) as CommandModule).register(program);
    } else if (entry.name === invoked) {
        ((await import(entry.module)) as CommandModule).register(program);
    } else {
        // Listed in `rstar --help`; never run (its module is imported when it is the invoked command).
        program.command(entry.name).description(entry.description);
    }
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
