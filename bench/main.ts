import { formatSection, type BenchModule } from "./harness.js";
import { evalBench } from "./eval.js";
import { evolveBench } from "./evolve.js";
import { gpuBench } from "./gpu.js";
import { gradingBench } from "./grading.js";
import { llamaBench } from "./llama.js";
import { modelsBench } from "./models.js";
import { ppmBench } from "./ppm.js";
import { sandboxBench } from "./sandbox.js";
import { officialScheduleBench, searchBench, virtualLossBench } from "./search.js";
import { queueBench } from "./queue.js";

// Sections register here; `npm run bench -- NAME` runs only the sections whose title contains NAME
// (`npm run bench -- search --large` adds 200 problems to the official-schedule comparison).
const modules: BenchModule[] = [
    searchBench,
    officialScheduleBench,
    virtualLossBench,
    sandboxBench,
    gradingBench,
    modelsBench,
    llamaBench,
    gpuBench,
    evalBench,
    evolveBench,
    ppmBench,
    queueBench,
];

const filter = process.argv[2]?.toLowerCase();
console.log(`rstar-math benchmarks (node ${process.version}, ${(await import("node:os")).cpus().length} cores)`);
for (const module of modules) {
    if (filter && !module.title.toLowerCase().includes(filter)) continue;
    const section = await module.run();
    console.log(formatSection(section));
}
