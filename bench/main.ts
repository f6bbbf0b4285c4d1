import { formatSection, type BenchModule } from "./harness.js";
import { evalBench } from "./eval.js";
import { evolveBench } from "./evolve.js";
import { gradingBench } from "./grading.js";
import { llamaBench } from "./llama.js";
import { modelsBench } from "./models.js";
import { sandboxBench } from "./sandbox.js";
import { searchBench } from "./search.js";

// Sections register here; `npm run bench -- NAME` runs only the sections whose title contains NAME.
const modules: BenchModule[] = [
    searchBench,
    sandboxBench,
    gradingBench,
    modelsBench,
    llamaBench,
    evalBench,
    evolveBench,
];

const filter = process.argv[2]?.toLowerCase();
console.log(`rstar-math benchmarks (node ${process.version}, ${(await import("node:os")).cpus().length} cores)`);
for (const module of modules) {
    if (filter && !module.title.toLowerCase().includes(filter)) continue;
    const section = await module.run();
    console.log(formatSection(section));
}
