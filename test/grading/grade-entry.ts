// Test entry: the `rstar` program with only the grade command registered (see cli.test.ts).
import { Command, CommanderError } from "commander";
import { register } from "../../src/cli/commands/grade.js";

const program = new Command("rstar").exitOverride();
register(program);
try {
    await program.parseAsync(process.argv);
} catch (error) {
    process.exitCode = error instanceof CommanderError && error.exitCode === 0 ? 0 : 2;
}
