import type { ProblemSearch } from "./context.js";
import { evaluateChildren, scoreNodes } from "./evaluate.js";
import { sampleChildren } from "./expand.js";
import type { SearchNode } from "./tree.js";

/**
 * Step-level beam search (official `BS`): every beam asks for `candidates` next steps; all new steps are scored by the
 * reward model; answers leave the beam (each one narrows it by one, as in the official code), failed terminals are
 * dropped, and the best `beamWidth` remaining steps by score become the next beams. At most `maxDepth` rounds (the
 * official solver's `for step in range(max_depth)`, solver.py:229, run once for beam search); beams still open after
 * them count as budget ends. A step the reward model returned no value for ranks at 0 (beam_search.py:122).
 */
export async function runBeamSearch(search: ProblemSearch): Promise<void> {
    const { settings } = search;
    let width = settings.beamWidth;
    let beams: SearchNode[] = [search.root];
    for (let round = 0; beams.length > 0 && width > 0; round += 1) {
        if (round >= settings.maxDepth) {
            search.counters.stepBudgetEnds += beams.length;
            return;
        }
        const expanded = await Promise.all(beams.map((beam) => sampleChildren(search, beam, { officialFilter: true })));
        const children = expanded.flat();
        await evaluateChildren(search, children, { missingValue: "zero" });
        // Beam ranking needs a score for every child, including non-terminal ones when leaf values are off.
        const unscored = children.filter((child) => child.rewardScore === null && !child.terminal);
        await scoreNodes(search, unscored);
        const ranked = [...children].sort((a, b) => rank(b) - rank(a));
        const next: SearchNode[] = [];
        for (const child of ranked) {
            if (child.terminalReason === "answer") width -= 1;
            else if (!child.terminal) next.push(child);
        }
        beams = next.slice(0, Math.max(0, width));
        search.counters.rollouts += 1;
    }
}

function rank(node: SearchNode): number {
    return node.rewardScore ?? node.value ?? 0;
}
