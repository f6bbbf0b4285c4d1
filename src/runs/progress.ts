import type { ProblemOutcome, SearchEvent } from "../search/index.js";

export interface RunProgress {
    total: number;
    done: number;
    failed: number;
    inProgress: number;
    /** Problems with gold answers among those done, and how many were answered correctly / had any correct rollout. */
    graded: number;
    correct: number;
    passAny: number;
    /**
     * The graded problems whose answer was selected without seeing the gold answer (not ground-truth terminal reward),
     * and how many of those were answered correctly: the accuracy. Under ground-truth reward both stay 0.
     */
    blindGraded: number;
    blindCorrect: number;
    rollouts: number;
    nodes: number;
    requestsInFlight: number;
    elapsedMs: number;
    /** Nodes created per second in this session. */
    nodesPerSecond: number;
    /** Estimated time left, from this session's pace; null until a problem has finished. */
    etaMs: number | null;
}

/** Counts what a run does, from search events and finished problems; reports snapshots at most every 250 ms. */
export class RunProgressTracker {
    private readonly state: Omit<RunProgress, "elapsedMs" | "nodesPerSecond" | "etaMs">;
    private readonly started = performance.now();
    private finishedThisSession = 0;
    private lastReport = 0;

    constructor(
        total: number,
        alreadyDone: number,
        private readonly listener: ((progress: RunProgress) => void) | undefined,
    ) {
        this.state = { total, done: alreadyDone, failed: 0, inProgress: 0, graded: 0, correct: 0, passAny: 0, blindGraded: 0, blindCorrect: 0, rollouts: 0, nodes: 0, requestsInFlight: 0 };
    }

    /** Adds a problem finished in an earlier session to the accuracy counts (`sawGold` from `selectionSawGold`). */
    countStored(result: Record<string, unknown>, sawGold: boolean): void {
        const graded = result["correct"] === true || result["correct"] === false;
        if (graded) this.state.graded += 1;
        if (result["correct"] === true) this.state.correct += 1;
        if (result["pass_any"] === true) this.state.passAny += 1;
        if (graded && !sawGold) this.state.blindGraded += 1;
        if (result["correct"] === true && !sawGold) this.state.blindCorrect += 1;
        if (result["error"] !== null && result["error"] !== undefined) this.state.failed += 1;
    }

    /**
     * A problem finished elsewhere (a queue worker) was recorded here, with its results.jsonl record: counts it as
     * `countStored` does, and its nodes and rollouts.
     */
    problemRecorded(result: Record<string, unknown>, sawGold: boolean): void {
        this.countStored(result, sawGold);
        if (typeof result["nodes"] === "number") this.state.nodes += result["nodes"];
        if (typeof result["rollouts"] === "number") this.state.rollouts += result["rollouts"];
        this.state.done += 1;
        this.finishedThisSession += 1;
        this.report(true);
    }

    /** Problems in progress elsewhere (a queue's active jobs). */
    setInProgress(count: number): void {
        this.state.inProgress = count;
        this.report();
    }

    problemStarted(): void {
        this.state.inProgress += 1;
        this.report();
    }

    problemAbandoned(): void {
        this.state.inProgress -= 1;
    }

    /**
     * A problem that failed on its own, with its error record: it counts as graded (and wrong) when it has a gold
     * answer, as it does when a resumed run reads it back (`countStored`), so both give the same figures.
     */
    problemFailed(result: Record<string, unknown>, sawGold: boolean): void {
        this.countStored(result, sawGold);
        this.state.done += 1;
        this.finishedThisSession += 1;
        this.report(true);
    }

    problemFinished(outcome: ProblemOutcome): void {
        this.state.inProgress -= 1;
        this.state.done += 1;
        this.finishedThisSession += 1;
        if (outcome.correct !== null) this.state.graded += 1;
        if (outcome.correct === true) this.state.correct += 1;
        if (outcome.passAny === true) this.state.passAny += 1;
        if (outcome.correct !== null && !outcome.selectionSawGold) this.state.blindGraded += 1;
        if (outcome.correct === true && !outcome.selectionSawGold) this.state.blindCorrect += 1;
        this.report(true);
    }

    onEvent(event: SearchEvent): void {
        switch (event.type) {
            case "request-start":
                this.state.requestsInFlight += 1;
                break;
            case "request-end":
                this.state.requestsInFlight -= 1;
                break;
            case "node-created":
                this.state.nodes += 1;
                break;
            case "rollout-end":
                this.state.rollouts += 1;
                break;
        }
        this.report();
    }

    snapshot(): RunProgress {
        const elapsedMs = performance.now() - this.started;
        const remaining = this.state.total - this.state.done;
        return {
            ...this.state,
            elapsedMs,
            nodesPerSecond: elapsedMs > 0 ? (this.state.nodes * 1000) / elapsedMs : 0,
            etaMs: this.finishedThisSession > 0 ? (elapsedMs / this.finishedThisSession) * remaining : null,
        };
    }

    stop(): void {
        this.report(true);
    }

    private report(force = false): void {
        if (this.listener === undefined) return;
        const now = performance.now();
        if (!force && now - this.lastReport < 250) return;
        this.lastReport = now;
        this.listener(this.snapshot());
    }
}
