import { SingleBar } from "cli-progress";
import type { RunProgress } from "../runs/index.js";

/** Shows run progress on stderr: a live bar on a terminal, a plain line every `intervalMs` otherwise (logs, CI). */
export class ProgressDisplay {
    private bar: SingleBar | null = null;
    private lastLine = 0;
    private lastText = "";

    constructor(
        private readonly label: string,
        private readonly interactive = Boolean(process.stderr.isTTY),
        private readonly intervalMs = 10_000,
        private readonly quiet = false,
        private readonly stream: NodeJS.WritableStream = process.stderr,
    ) {}

    update(progress: RunProgress): void {
        if (this.quiet) return;
        if (this.interactive) this.updateBar(progress);
        else if (performance.now() - this.lastLine >= this.intervalMs || progress.done === progress.total) this.printLine(progress);
    }

    stop(final?: RunProgress): void {
        if (this.bar) {
            this.bar.stop();
            this.bar = null;
        } else if (final && !this.quiet && !this.interactive) this.printLine(final);
    }

    private printLine(progress: RunProgress): void {
        this.lastLine = performance.now();
        const text = `${this.label}: ${describe(progress)}`;
        // Counts without timing: the same state is not printed twice (the last update and stop() often coincide).
        const state = text.replace(/, elapsed .*$/, "");
        if (state === this.lastText) return;
        this.lastText = state;
        this.stream.write(text + "\n");
    }

    private updateBar(progress: RunProgress): void {
        const payload = {
            rollouts: progress.rollouts,
            rate: progress.nodesPerSecond.toFixed(1),
            inflight: progress.requestsInFlight,
            score: scoreText(progress, false),
            // not `eta`: cli-progress fills {eta} itself (unitless seconds, "INF" before the first problem ends)
            remaining: progress.etaMs === null ? "-" : formatDuration(progress.etaMs),
        };
        if (this.bar === null) {
            this.bar = new SingleBar({
                format: `${this.label} {bar} {value}/{total} | {rollouts} rollouts | {rate} nodes/s | {inflight} requests in flight | {score} | ETA {remaining}`,
                stream: this.stream,
                hideCursor: true,
                barsize: 24,
            });
            this.bar.start(progress.total, progress.done, payload);
        } else this.bar.update(progress.done, payload);
    }
}

export function describe(progress: RunProgress): string {
    const parts = [
        `${progress.done}/${progress.total} done`,
        `${progress.rollouts} rollouts`,
        `${progress.nodesPerSecond.toFixed(1)} nodes/s`,
        `${progress.requestsInFlight} requests in flight`,
        scoreText(progress, true),
        `elapsed ${formatDuration(progress.elapsedMs)}`,
        `ETA ${progress.etaMs === null ? "-" : formatDuration(progress.etaMs)}`,
    ];
    if (progress.failed > 0) parts.push(`${progress.failed} failed`);
    return parts.join(", ");
}

/**
 * The accuracy of the selected answers where selection did not see the gold answer; under ground-truth reward (where
 * the selected answer is a correct one whenever any rollout found one) the share solved by any rollout instead.
 */
function scoreText(progress: RunProgress, counts: boolean): string {
    const share = (part: number, whole: number) => `${((100 * part) / whole).toFixed(1)}%${counts ? ` (${part}/${whole})` : ""}`;
    if (progress.blindGraded > 0) return `accuracy ${share(progress.blindCorrect, progress.blindGraded)}`;
    if (progress.graded > 0) return `solved ${share(progress.passAny, progress.graded)}`;
    return "accuracy -";
}

export function formatDuration(ms: number): string {
    const seconds = Math.round(ms / 1000);
    if (seconds < 60) return `${seconds}s`;
    const minutes = Math.floor(seconds / 60);
    if (minutes < 60) return `${minutes}m${String(seconds % 60).padStart(2, "0")}s`;
    return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, "0")}m`;
}
