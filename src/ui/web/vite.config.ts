import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

// The viewer's page: Preact + d3-hierarchy, bundled at build time (`npm run build`) into dist/ui/web; no CDN, works offline.
const here = fileURLToPath(new URL(".", import.meta.url));

export default defineConfig({
    root: here,
    base: "./",
    logLevel: "warn",
    oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
    build: {
        outDir: fileURLToPath(new URL("../../../dist/ui/web", import.meta.url)),
        emptyOutDir: true,
        target: "es2022",
        sourcemap: false,
        chunkSizeWarningLimit: 400,
    },
});
