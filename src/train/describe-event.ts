import type { TrainEvent } from "./python-trainer.js";

function num(value: unknown, digits: number): string {
    return typeof value === "number" && Number.isFinite(value) ? value.toFixed(digits) : "-";
}

/** One human line for a trainer event (plain progress output), or null for events not worth a line. */
export function describeTrainEvent(event: TrainEvent): string | null {
    switch (event.event) {
        case "tokenizer":
            return `tokenizer: vocabulary ${String(event["vocab_size"])}`;
        case "start": {
            const what = event["kind"] === "ppm" ? `${String(event["train_pairs"])} train / ${String(event["test_pairs"])} held-out pairs` : `${String(event["train_records"])} records (${String(event["eval_records"])} held out), mean ${String(event["mean_tokens"])} tokens`;
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
        case "error":
            return `error: ${String(event.message)}`;
        default:
            return null;
    }
}
