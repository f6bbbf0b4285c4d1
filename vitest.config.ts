import { defineConfig } from "vitest/config";

// Test tiers as vitest projects: `unit` is the pure tests next to the code (src/**, no Python, models or servers),
// `integration` is test/** (real Python, SQLite, llama.cpp, HTTP). `vitest run` (npm test) runs both;
// `vitest run --project unit` (npm run test:unit) only the first.
export default defineConfig({
    test: {
        // Python workers and model contexts are heavy on 2 cores: run files in forks, a few at a time.
        pool: "forks",
        maxWorkers: 2,
        testTimeout: 60_000,
        hookTimeout: 120_000,
        projects: [
            { extends: true, test: { name: "unit", include: ["src/**/*.test.ts"] } },
            { extends: true, test: { name: "integration", include: ["test/**/*.test.ts"] } },
        ],
    },
});
