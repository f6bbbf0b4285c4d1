import { spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildRoundReport, writeEvolveReport } from "../../src/evolve/report.js";
import { STATE_FORMAT, type RoundState } from "../../src/evolve/state.js";
import { startSimulatedPolicyServer, type SimulatedPolicyServer } from "../support/simulated-policy.js";

/** Debian's chromium (scripts/setup.sh installs it); playwright-core never downloads a browser here. */
const CHROMIUM = process.env["RSTAR_CHROMIUM"] ?? "/usr/bin/chromium";
const ARTIFACTS = resolve("test-artifacts");

let server: SimulatedPolicyServer;
let browser: Browser;
const dir = mkdtempSync(join(tmpdir(), "rstar-report-"));

function rstar(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((done) => {
        const child = spawn(process.execPath, ["bin/rstar.js", ...args], { stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
        child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
        child.on("exit", (code) => done({ code, stdout, stderr }));
    });
}

beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: run scripts/setup.sh (apt-get install chromium) or set RSTAR_CHROMIUM`);
    server = await startSimulatedPolicyServer({ stepCorrectProbability: 0.6, codeErrorProbability: 0.1 });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
}, 60_000);
afterAll(async () => {
    await browser?.close();
    await server?.close();
});

describe("rstar report in a real browser", () => {
    it("renders charts and filled tables offline, with no console errors, and saves a screenshot", async () => {
        const questions = ["Compute 6 * 7 - 2.", "Compute 3 + 4 * 5.", "What is (2 + 3) * 4?", "Compute 9 - 4 + 8.", "Compute 12 * 3 - 7.", "Compute 5 * 5 + 5."];
        const golds = ["40", "23", "20", "13", "29", "30"];
        const data = join(dir, "set.jsonl");
        writeFileSync(data, questions.map((question, i) => JSON.stringify({ question, answer: golds[i], level: `Level ${1 + (i % 2)}` })).join("\n") + "\n");
        const stepwise = ["--stop", "<end_of_step>", "<end_of_code>", "<end_of_answer>", "--max-tokens", "256", "--policy-url", server.baseURL, "--model", server.model, "--quiet"];
        for (const [method, out] of [["maj@8", "maj8"], ["maj@2", "maj2"]] as const) {
            const run = await rstar(["eval", "--dataset", data, "--method", method, ...stepwise, "--out", join(dir, out)]);
            expect(run.code, run.stderr).toBe(0);
        }
        mkdirSync(ARTIFACTS, { recursive: true });
        const html = join(ARTIFACTS, "report.html");
        const made = await rstar(["report", join(dir, "maj8"), join(dir, "maj2"), "--out", html, "--title", "Report test", "--problems", "100000", "--servers", "4"]);
        expect(made.code, made.stderr).toBe(0);
        const text = readFileSync(html, "utf8");
        // Self-contained: no scripts, stylesheets or images from anywhere.
        expect(text).not.toMatch(/<script|<link |src="http|href="http/);

        const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
        const problems: string[] = [];
        page.on("console", (message) => {
            if (message.type() === "error" || message.type() === "warning") problems.push(`${message.type()}: ${message.text()}`);
        });
        page.on("pageerror", (error) => problems.push(`pageerror: ${error.message}`));
        const requests: string[] = [];
        page.on("request", (request) => requests.push(request.url()));
        await page.goto(pathToFileURL(html).href);

        for (const id of ["chart-metrics", "chart-scaling", "chart-difficulty", "chart-cost"]) {
            const svg = page.locator(`#${id} svg`);
            await expect(svg.count()).resolves.toBe(1);
            const box = await svg.boundingBox();
            expect(box?.width, id).toBeGreaterThan(100);
            expect(box?.height, id).toBeGreaterThan(50);
            // Marks drawn: Vega renders lines, areas, bars and rules as <path> elements in mark groups.
            expect(await page.locator(`#${id} svg g.mark-line path, #${id} svg g.mark-rect path, #${id} svg g.mark-area path, #${id} svg g.mark-symbol path`).count(), id).toBeGreaterThan(0);
        }
        // The scaling chart has one line per selection method and run: 3 x 2.
        expect(await page.locator("#chart-scaling g.mark-line path").count()).toBe(6);
        await expect(page.locator("#metrics tbody tr").count()).resolves.toBe(2);
        await expect(page.locator("#settings tbody tr").count()).resolves.toBeGreaterThan(10);
        await expect(page.locator("#paired tbody tr").count()).resolves.toBe(1);
        await expect(page.locator("#projection tbody tr").count()).resolves.toBe(2);
        await expect(page.locator("table.problems").count()).resolves.toBe(2);
        await expect(page.locator("table.problems").first().locator("tbody tr").count()).resolves.toBe(6);
        const metricsText = await page.locator("#metrics").innerText();
        expect(metricsText).toMatch(/maj@8/);
        expect(metricsText).toMatch(/\d+\.\d%/);
        // A chosen trajectory opens with highlighted code.
        await page.locator("table.problems details summary").first().click();
        await expect(page.locator("table.problems details[open] .hljs-keyword, table.problems details[open] .hljs-comment, table.problems details[open] .hljs-number").count()).resolves.toBeGreaterThan(0);

        const screenshot = join(ARTIFACTS, "report.png");
        await page.screenshot({ path: screenshot, fullPage: true });
        expect(statSync(screenshot).size).toBeGreaterThan(20_000);
        expect(problems).toEqual([]);
        expect(requests.filter((url) => !url.startsWith("file:"))).toEqual([]);
        await page.close();
    }, 240_000);

    it("an evolve directory: the rounds table and the accuracy-by-round and time charts render (made from the runs above)", async () => {
        // Round 1 evaluated with maj@2, round 2 with maj@8 (the runs of the test above), in the evolve layout.
        const evolve = join(dir, "evolve");
        writeFileSync(join(mkdirp(evolve), "config.json"), JSON.stringify({ rounds: [{}, {}] }));
        for (const [n, run, name] of [[1, "maj2", "test-maj-at-2"], [2, "maj8", "test-maj-at-8"]] as const) {
            const rd = join(evolve, `round-${n}`);
            cpSync(join(dir, run), join(rd, "eval", name), { recursive: true });
            const stages = Object.fromEntries(["search", "train-sft", `eval-${name}`].map((stage, i) => [stage, { status: "done" as const, command: null, startedAt: null, finishedAt: null, seconds: 10 * (i + 1) * n, attempts: 1, pid: null, note: null }]));
            const state: RoundState = { format: STATE_FORMAT, round: n, order: Object.keys(stages), stages, artifacts: { policy: null, ppm: null } };
            writeFileSync(join(rd, "report.json"), JSON.stringify(buildRoundReport(evolve, n, state, [])));
        }
        writeEvolveReport(evolve, 2);
        const html = join(ARTIFACTS, "report-evolve.html");
        const made = await rstar(["report", evolve, "--out", html, "--title", "Evolve report test"]);
        expect(made.code, made.stderr).toBe(0);
        expect(readFileSync(html, "utf8")).not.toMatch(/<script|<link |src="http|href="http/);

        const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
        const problems: string[] = [];
        page.on("console", (message) => {
            if (message.type() === "error" || message.type() === "warning") problems.push(`${message.type()}: ${message.text()}`);
        });
        page.on("pageerror", (error) => problems.push(`pageerror: ${error.message}`));
        await page.goto(pathToFileURL(html).href);
        for (const id of ["chart-rounds-accuracy", "chart-rounds-time"]) {
            const box = await page.locator(`#${id} svg`).boundingBox();
            expect(box?.width, id).toBeGreaterThan(100);
            expect(box?.height, id).toBeGreaterThan(50);
        }
        // One line per method (maj@2, maj@8: one point each), one interval rule per evaluation, one bar per stage and round.
        expect(await page.locator("#chart-rounds-accuracy g.mark-symbol.role-mark path").count()).toBe(2);
        expect(await page.locator("#chart-rounds-accuracy g.mark-rule.role-mark line").count()).toBe(2);
        expect(await page.locator("#chart-rounds-time g.mark-rect.role-mark path").count()).toBe(6);
        await expect(page.locator("#rounds tbody tr").count()).resolves.toBe(2);
        const roundsText = await page.locator("#rounds").innerText();
        expect(roundsText).toMatch(/test · maj@2/);
        expect(roundsText).toMatch(/test · maj@8/);
        await expect(page.locator("#metrics tbody tr").count()).resolves.toBe(2);
        await page.screenshot({ path: join(ARTIFACTS, "report-evolve.png"), fullPage: true });
        expect(problems).toEqual([]);
        await page.close();
    }, 60_000);
});

function mkdirp(path: string): string {
    mkdirSync(path, { recursive: true });
    return path;
}
