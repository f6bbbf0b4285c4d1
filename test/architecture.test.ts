import { cruise, type IReporterOutput } from "dependency-cruiser";
import { describe, expect, it } from "vitest";

/**
 * Guards docs/architecture.md mechanically: no import cycles in src/, imports only flow to lower layers,
 * and one capability reaches another only through its index.ts.
 */
const layers: string[][] = [
    ["errors"],
    ["util"],
    ["sandbox", "grading", "llm"],
    ["steps", "reward"],
    ["synth"],
    ["search"],
    ["data"],
    ["runs"],
    ["serve", "train", "queue"],
    ["eval", "evolve"],
    ["demo", "ui"],
    ["cli"],
];

function layerOf(folder: string): number {
    return layers.findIndex((names) => names.includes(folder));
}

const allFolders = layers.flat();

function forbiddenRules() {
    const rules: { name: string; severity: "error"; from: { path: string }; to: { path: string; pathNot?: string; circular?: boolean } }[] = [
        { name: "no-cycles", severity: "error", from: { path: "^src" }, to: { path: "^src", circular: true } },
    ];
    for (const from of allFolders) {
        const higher = allFolders.filter((to) => layerOf(to) >= layerOf(from) && to !== from);
        if (higher.length > 0) {
            rules.push({ name: `layer-${from}`, severity: "error", from: { path: `^src/${from}/` }, to: { path: `^src/(${higher.join("|")})/` } });
        }
        rules.push({
            name: `through-index-${from}`,
            severity: "error",
            from: { path: "^src/", pathNot: `^src/${from}/` } as { path: string },
            to: { path: `^src/${from}/`, pathNot: `^src/${from}/index\\.ts$` },
        });
    }
    return rules;
}

describe("architecture", () => {
    it("has no import cycles, no upward imports, and no reaching past a capability's index.ts", async () => {
        const result: IReporterOutput = await cruise(["src"], {
            validate: true,
            ruleSet: { forbidden: forbiddenRules() } as never,
            tsPreCompilationDeps: true,
            exclude: { path: "\\.test\\.ts$" },
            doNotFollow: { path: "node_modules" },
        });
        const output = result.output as { summary: { violations: { rule: { name: string }; from: string; to: string }[] }; modules: unknown[] };
        expect(output.modules.length).toBeGreaterThan(10);
        const violations = output.summary.violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`);
        expect(violations).toEqual([]);
    });

    it("knows every folder under src/", async () => {
        const { readdirSync } = await import("node:fs");
        const folders = readdirSync("src", { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
        for (const folder of folders) expect(allFolders, `src/${folder} has no layer in docs/architecture.md`).toContain(folder);
    });
});
