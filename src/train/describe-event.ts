import type { HeldoutReport, PairAccuracy, TrainEvent } from "./python-trainer.js";

function num(value: unknown, digits: number): string {
    return typeof value === "number" && Number.isFinite(value) ? value.toFixed(digits) : "-";
}

/** One human line for a trainer event (plain progress output), or null for events not worth a line. */
export function describeTrainEvent(event: TrainEvent): string | null {
    switch (event.event) {
        case "tokenizer":
            return `tokenizer: vocabulary ${String(event["vocab_size"])}`;
        case "start": {
            if (event["kind"] === "ppm-eval") return `scoring ${String(event["test_pairs"])} pairs from ${String(event["test_problems"])} problems`;
            const what = event["kind"] === "ppm"
                ? `${String(event["train_pairs"])} train / ${String(event["test_pairs"])} held-out pairs (${String(event["train_problems"])} / ${String(event["test_problems"])} problems, split ${String(event["split"])})`
                : `${String(event["train_records"])} records (${String(event["eval_records"])} held out), mean ${String(event["mean_tokens"])} tokens`;
            return `start: ${String(event["kind"])}, ${(Number(event["params"]) / 1e6).toFixed(2)}M params, ${what}, ${String(event.steps)} steps`;
        }
        case "step": {
            const rate = event.tokens_per_s !== undefined ? `${String(event.tokens_per_s)} tokens/s` : `${String(event.pairs_per_s)} pairs/s`;
            return `step ${String(event.step)}/${String(event.steps)} (epoch ${String(event.epoch)}): loss ${num(event.loss, 4)}, ${rate}, ${num(event.elapsed_s, 0)}s`;
        }
        case "eval":
            return event.accuracy !== undefined
                ? `eval after step ${String(event.step)}: held-out accuracy ${(100 * Number(event.accuracy)).toFixed(1)}%, loss ${num(event.eval_loss, 4)}`
                : `eval after step ${String(event.step)}: held-out loss ${num(event.eval_loss, 4)}`;
        case "solve":
            return `greedy solve rate ${(100 * Number(event["solve_rate"])).toFixed(1)}% of ${String(event["problems"])} problems (answer format ${(100 * Number(event["answer_format_rate"])).toFixed(1)}%)`;
        case "issue":
            return `${String(event.message)} (skipped)`;
        case "warning":
            return `warning: ${String(event.message)}`;
        case "error":
            return `error: ${String(event.message)}`;
        default:
            return null;
    }
}

const KIND_TITLES: Record<keyof HeldoutReport["by_kind"], string> = {
    code_vs_code: "code vs code",
    code_vs_answer: "code vs print/answer",
    final_answer: "correct vs wrong final answer",
};

function accuracyLine(title: string, a: PairAccuracy): string {
    if (a.accuracy === null) return `${title}: no pairs`;
    const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
    const wilson = a.wilson95 ? `, 95% CI ${pct(a.wilson95[0])}-${pct(a.wilson95[1])}` : "";
    const boot = a.bootstrap95 ? ` (by problem ${pct(a.bootstrap95[0])}-${pct(a.bootstrap95[1])})` : "";
    return `${title}: ${pct(a.accuracy)} of ${a.pairs} pairs from ${a.problems} problems${wilson}${boot}`;
}

/** Lines for a held-out report (`metrics.heldout` of `train ppm` and `train eval-ppm`): overall, then each kind. */
export function describeHeldout(report: HeldoutReport): string[] {
    return [
        accuracyLine("held-out pairwise accuracy", report),
        ...Object.entries(KIND_TITLES).map(([kind, title]) => accuracyLine(`  ${title}`, report.by_kind[kind as keyof typeof KIND_TITLES])),
    ];
}
