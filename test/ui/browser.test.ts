import { cpSync, existsSync, mkdirSync, mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { collect, firstLine, spawnRstar } from "../support/cli.js";
import type { ProblemTree } from "../../src/ui/index.js";
import { startSimulatedPolicyServer, type SimulatedPolicyServer } from "../support/simulated-policy.js";
import { HOSTILE, evolveShell, hostileRun, policyFlags, searchRun, writeDataset } from "./fixtures.js";

/** Debian's chromium (scripts/setup.sh installs it); playwright-core never downloads a browser here. */
const CHROMIUM = process.env["RSTAR_CHROMIUM"] ?? "/usr/bin/chromium";
const ARTIFACTS = resolve("test-artifacts", "ui");

let policy: SimulatedPolicyServer;
let slowPolicy: SimulatedPolicyServer;
let browser: Browser;
let viewer: ReturnType<typeof spawnRstar>;
let url: string;
const base = mkdtempSync(join(tmpdir(), "rstar-ui-browser-"));
const runs = join(base, "runs");

beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: run scripts/setup.sh (apt-get install chromium) or set RSTAR_CHROMIUM`);
    policy = await startSimulatedPolicyServer({ stepCorrectProbability: 0.6, codeErrorProbability: 0.15 });
    slowPolicy = await startSimulatedPolicyServer({ stepCorrectProbability: 0.6, codeErrorProbability: 0.15, serviceTimeMs: 120 });
    mkdirSync(runs, { recursive: true });
    mkdirSync(ARTIFACTS, { recursive: true });
    // Ground-truth terminal rewards, so Q values spread over [-1, 1] (the colour scale has something to show).
    await searchRun(policy, writeDataset(join(base, "four.jsonl"), 4), join(runs, "finished"), ["--terminal-reward", "ground-truth"]);
    hostileRun(join(runs, "hostile"));
    // An evolve directory around a copy of that run as its round-1 search.
    evolveShell(join(runs, "evolve"));
    cpSync(join(runs, "finished"), join(runs, "evolve", "round-1", "search"), { recursive: true });
    viewer = spawnRstar(["ui", runs, "--port", "0"]);
    url = await firstLine(viewer);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
}, 120_000);

afterAll(async () => {
    await browser?.close();
    if (viewer !== undefined && viewer.exitCode === null) {
        const done = collect(viewer);
        viewer.kill("SIGINT");
        await done;
    }
    await policy?.close();
    await slowPolicy?.close();
});

/** A page that records console errors, page errors and any request that leaves the viewer. */
async function openPage(): Promise<{ page: Page; problems: string[]; foreign: string[] }> {
    const page = await browser.newPage({ viewport: { width: 1366, height: 860 } });
    const problems: string[] = [];
    const foreign: string[] = [];
    page.on("console", (message) => {
        if (message.type() === "error" || message.type() === "warning") problems.push(`${message.type()}: ${message.text()}`);
    });
    page.on("pageerror", (error) => problems.push(`pageerror: ${error.message}`));
    page.on("request", (request) => {
        if (!request.url().startsWith(url)) foreign.push(request.url());
    });
    return { page, problems, foreign };
}

const fills = (page: Page) => page.locator("#tree g.node:not([data-tag='0']) > circle").evaluateAll((circles) => circles.map((circle) => circle.getAttribute("fill")));

describe("rstar ui in a real browser", () => {
    it("opens a finished run and a problem, expands a node, shows its code and observation, switches the colour scale", async () => {
        const { page, problems, foreign } = await openPage();
        await page.goto(url);
        await page.locator("#runs a", { hasText: "runs/finished" }).click();
        await expect.poll(() => page.locator("#problem-count").innerText()).toBe("4");
        await expect.poll(() => page.locator("#problems tbody tr").count()).toBe(4);
        await expect.poll(() => page.locator("#metrics tbody tr").count()).toBe(5);
        expect(await page.locator("#metrics").innerText()).toMatch(/pass@K \(oracle\)\s+\d+\.\d%/);
        // Sorting and filtering work on the table.
        await page.locator("#problems th button", { hasText: "#" }).click();
        expect(await page.locator("#problems tbody tr").first().getAttribute("data-index")).toBe("3");
        await page.screenshot({ path: join(ARTIFACTS, "run.png"), fullPage: true });
        // Filters: the wrong answers; and, against another run with the same answers (the evolve round's copy of
        // this run), no problem is right here and wrong there.
        const id = await runIdOf("runs/finished");
        const rows = ((await (await fetch(`${url}api/runs/${id}/problems`)).json()) as { problems: { correct: boolean | null }[] }).problems;
        await page.selectOption("#problem-filter", "wrong");
        await expect.poll(() => page.locator("#problems tbody tr").count()).toBe(rows.filter((row) => row.correct === false).length);
        await page.selectOption("#problem-filter", "all");
        await page.selectOption("#compare-run", { label: "runs/evolve/round-1/search" });
        await expect.poll(() => page.locator("#problems tbody tr td:last-child .ok, #problems tbody tr td:last-child .bad").count()).toBe(4);
        await page.selectOption("#problem-filter", "only-here");
        await expect.poll(() => page.locator("#problems tbody tr").count()).toBe(0);
        await page.selectOption("#problem-filter", "all");

        // The problem whose tree has the most distinct Q values (the colour scale shows them).
        const trees = await Promise.all([0, 1, 2, 3].map(async (index) => (await (await fetch(`${url}api/runs/${id}/problems/${index}`)).json()) as ProblemTree));
        const spread = (tree: ProblemTree) => new Set(tree.nodes.slice(1).map((node) => node.q)).size;
        const tree = trees.reduce((best, candidate) => (spread(candidate) > spread(best) ? candidate : best));
        expect(spread(tree)).toBeGreaterThan(1);
        await page.locator(`#problems tbody tr[data-index='${tree.index}'] td.question a`).click();
        await expect.poll(() => page.locator("#question").innerText()).toBe(tree.question);
        const nodes = page.locator("#tree g.node");
        await expect.poll(() => nodes.count()).toBeGreaterThan(1);
        const before = await nodes.count();
        // Expand a collapsed node: its hidden children appear.
        const toggle = page.locator("#tree g.toggle:not([data-hidden='0'])").first();
        const hidden = Number(await toggle.getAttribute("data-hidden"));
        expect(hidden).toBeGreaterThan(0);
        const opened = await toggle.getAttribute("data-toggle");
        await toggle.click();
        await expect.poll(() => nodes.count()).toBe(before + hidden);
        expect(await page.locator(`#tree g.node[data-tag='${opened}']`).getAttribute("aria-expanded")).toBe("true");

        // Select a code step: its program is highlighted and its observation shown.
        const visible = new Set(await page.locator("#tree g.node").evaluateAll((groups) => groups.map((g) => g.getAttribute("data-tag"))));
        const codeTag = tree.nodes.find((node) => node.code !== null && node.observation !== null && node.observation.trim() !== "" && visible.has(node.tag))?.tag ?? null;
        expect(codeTag).not.toBeNull();
        await page.locator(`#tree g.node[data-tag='${codeTag}'] > circle`).click();
        const detail = page.locator("#node-detail");
        await expect.poll(() => detail.locator(".tag").innerText()).toBe(codeTag);
        expect(await detail.locator("pre.code .hljs-comment, pre.code .hljs-number, pre.code .hljs-built_in").count()).toBeGreaterThan(0);
        expect(await detail.locator("pre.code").innerText()).toMatch(/x\d+ = |print\(/);
        expect((await detail.locator("pre.observation").innerText()).length).toBeGreaterThan(0);
        expect(await detail.locator("#node-q").innerText()).toMatch(/^-?\d\.\d{3}$/);

        // Keyboard: left goes to the parent.
        await page.locator("#tree").focus();
        await page.keyboard.press("ArrowLeft");
        const parentTag = (codeTag as string).split(".").slice(0, -1).join(".");
        await expect.poll(() => detail.locator(".tag").innerText()).toBe(parentTag);

        // The colour scale: Q colours the nodes; this run had no reward model, so the PPM scale greys them all.
        await page.locator("button", { hasText: "expand all" }).click();
        await expect.poll(() => nodes.count()).toBe(tree.nodes.length);
        const byQ = await fills(page);
        expect(new Set(byQ).size).toBeGreaterThan(1);
        await page.selectOption("#colour-scale", "ppm");
        await expect.poll(async () => [...new Set(await fills(page))]).toEqual(["#c4c9cf"]);
        await page.selectOption("#colour-scale", "q");
        await expect.poll(() => fills(page)).toEqual(byQ);

        // Two trajectories side by side.
        await page.locator("#pin").click();
        await page.locator(`#tree g.node[data-tag='${codeTag}'] > circle`).click();
        await expect.poll(() => page.locator("#comparison ol.trajectory").count()).toBe(2);
        await page.screenshot({ path: join(ARTIFACTS, "problem.png"), fullPage: true });
        expect(statSync(join(ARTIFACTS, "problem.png")).size).toBeGreaterThan(20_000);
        // The next problem is one click away.
        const neighbour = tree.index === 3 ? 2 : tree.index + 1;
        await page.locator(".pager a", { hasText: `problem ${neighbour}` }).click();
        await expect.poll(() => page.locator("#question").innerText()).toBe(trees[neighbour]?.question);
        expect(problems).toEqual([]);
        expect(foreign).toEqual([]);
        await page.close();
    }, 60_000);

    it("shows model text as text: a step holding <script> and an onerror image runs nothing", async () => {
        const { page, problems } = await openPage();
        await page.goto(`${url}#/run/${await runIdOf("runs/hostile")}/problem/0`);
        await expect.poll(() => page.locator("#question").innerText()).toBe(`What is ${HOSTILE}?`);
        expect(await page.locator("#chosen-answer").innerText()).toBe(HOSTILE);
        await page.locator("#tree g.node[data-tag='0.1'] > circle").click();
        await expect.poll(() => page.locator("#node-detail pre.observation").innerText()).toContain(HOSTILE);
        expect(await page.locator("#node-detail pre.code").innerText()).toContain(HOSTILE);
        // No element came from the model's text, and nothing it carried ran.
        expect(await page.locator("main script, main img, #app img").count()).toBe(0);
        expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
        await page.screenshot({ path: join(ARTIFACTS, "escaped.png"), fullPage: true });
        expect(problems).toEqual([]);
        await page.close();
    }, 30_000);

    it("shows an evolve run's rounds and links to each round's runs", async () => {
        const { page, problems } = await openPage();
        await page.goto(url);
        await page.locator("#runs a", { hasText: /^runs\/evolve$/ }).click();
        await expect.poll(() => page.locator("#rounds tbody tr").count()).toBe(1);
        expect(await page.locator("#rounds").innerText()).toMatch(/66\.7%/);
        expect(await page.locator("table.stages").innerText()).toMatch(/search\s+done\s+2\.5/);
        await page.screenshot({ path: join(ARTIFACTS, "evolve.png"), fullPage: true });
        await page.locator(".round a", { hasText: "search" }).click();
        await expect.poll(() => page.locator("#problem-count").innerText()).toBe("4");
        expect(await page.locator(".crumbs").innerText()).toContain("runs/evolve/round-1/search");
        expect(problems).toEqual([]);
        await page.close();
    }, 30_000);

    it("watches a search while it runs: the problem count rises without a reload", async () => {
        const { page, problems } = await openPage();
        await page.goto(url);
        await page.evaluate(() => ((window as unknown as { __sameDocument: boolean }).__sameDocument = true));
        const dataset = writeDataset(join(base, "six.jsonl"), 6);
        const search = spawnRstar(["search", "--dataset", dataset, "--out", join(runs, "live"), ...policyFlags(slowPolicy), "--prompt", "sft", "--rollouts", "4", "--candidates", "2", "--terminal-reward", "none", "--concurrency", "1"]);
        const finished = collect(search);
        try {
            // The new run appears in the list (the server looks for new runs every 2 s) and is opened.
            const link = page.locator("#runs a", { hasText: "runs/live" });
            await link.waitFor({ timeout: 20_000 });
            await page.screenshot({ path: join(ARTIFACTS, "runs.png"), fullPage: true });
            await link.click();
            const count = page.locator("#problem-count");
            await count.waitFor();
            const seen = new Set<number>([Number(await count.innerText())]);
            const first = Math.min(...seen);
            expect(first).toBeLessThan(6);
            // Record every value the page shows until the run has finished.
            await expect
                .poll(
                    async () => {
                        seen.add(Number(await count.innerText()));
                        return Math.max(...seen);
                    },
                    { timeout: 40_000, interval: 100 },
                )
                .toBe(6);
            expect(seen.size).toBeGreaterThanOrEqual(2);
            await expect.poll(() => page.locator("#problems tbody tr").count(), { timeout: 10_000 }).toBe(6);
            expect(await page.evaluate(() => (window as unknown as { __sameDocument?: boolean }).__sameDocument)).toBe(true);
            await page.screenshot({ path: join(ARTIFACTS, "live.png"), fullPage: true });
        } finally {
            const result = await finished;
            expect(result.code, result.stderr).toBe(0);
        }
        expect(problems).toEqual([]);
        await page.close();
    }, 60_000);
});

async function runIdOf(path: string): Promise<string> {
    const body = (await (await fetch(`${url}api/runs`)).json()) as { runs: { id: string; path: string }[] };
    return body.runs.find((run) => run.path === path)?.id ?? "";
}
