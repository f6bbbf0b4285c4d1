/**
 * Commands, in --help order. A command's module (and everything it imports: SQLite, fastify, llama.cpp, zod schemas,
 * …) is imported only when that command runs or shows its own help; `rstar --help` and `rstar help` list the names
 * and descriptions from here, so they start in commander's time alone. test/cli/fast-start.test.ts checks that
 * these descriptions equal the ones the modules register, and that `rstar --help` imports no heavy package.
 * A plain string is a module imported eagerly (registered as it always was).
 */
export const commandModules: readonly (string | LazyCommand)[] = [
    { name: "grade", term: "grade [options]", module: "./commands/grade.js", description: "Judge whether a predicted answer equals the gold answer (typed parse, exact arithmetic, sympy for symbolic cases)" },
    { name: "exec", term: "exec [options]", module: "./commands/exec.js", description: "run Python code steps in the sandbox and print their rStar observations" },
    { name: "search", term: "search [options]", module: "./commands/search.js", description: "search every problem of a dataset with a policy server (MCTS, beam, best-of-N or greedy) into a durable run directory" },
    { name: "worker", term: "worker [options]", module: "./commands/worker.js", description: "search problems of distributed runs (rstar search --queue) from a Redis queue, with this host's policy server" },
    { name: "solve", term: "solve [options] <question>", module: "./commands/solve.js", description: "solve one question with a policy server and print the chosen trajectory and answer" },
    { name: "demo", term: "demo [options]", module: "./commands/demo.js", description: "offline demo, a preset over rstar eval: the shipped tiny policy on held-out synthetic problems, greedy, maj@K and MCTS + the shipped PPM" },
    { name: "eval", term: "eval [options]", module: "./commands/eval.js", description: "evaluate a method on a dataset or benchmark: accuracy with 95% intervals, majority / weighted vote, pass@K (oracle), cost, test-time scaling" },
    { name: "report", term: "report [options] <run-dir...>", module: "./commands/report.js", description: "one self-contained HTML page (charts as inline SVG, no network) for one or several eval or search runs side by side, or the rounds of an rstar evolve directory" },
    { name: "extract", term: "extract", module: "./commands/extract.js", description: "extract training data from search trees: policy SFT records (sft) and PPM step preference pairs (ppm)" },
    { name: "synth", term: "synth", module: "./commands/synth.js", description: "synthetic arithmetic word problems with reference solutions, for offline training and tests" },
    { name: "teacher", term: "teacher", module: "./commands/teacher.js", description: "the noisy teacher policy for synthetic problems (stands in for the paper's large bootstrap model)" },
    { name: "serve", term: "serve [options]", module: "./commands/serve.js", description: "serve a GGUF policy (and optionally a PPM) over HTTP in OpenAI/vLLM shapes, run in-process by llama.cpp (on the GPU when there is one)" },
    { name: "train", term: "train", module: "./commands/train.js", description: "train the tiny policy (SFT) and process preference model (PPM) with PyTorch on CPU" },
    { name: "evolve", term: "evolve [options]", module: "./commands/evolve.js", description: "self-evolution: the paper's rounds of MCTS, SFT and PPM training as durable, resumable stages" },
    { name: "ui", term: "ui [options] [run-dir...]", module: "./commands/ui.js", description: "a local, read-only web viewer of search, eval and evolve runs: live progress, metrics, problems and interactive search trees" },
];

export interface LazyCommand {
    name: string;
    /** How `rstar --help` lists it, as commander would from the module's options and arguments. */
    term: string;
    module: string;
    description: string;
}
