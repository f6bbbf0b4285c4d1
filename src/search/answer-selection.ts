import type { AnswerJudge } from "./context.js";
import type { AnswerSelection } from "./settings.js";

export interface TerminalAnswer {
    answer: string;
    /** The terminal's value: ±1 from the grader, the reward model's score, or 0. */
    value: number;
    correct: boolean | null;
    tag: string;
}

/**
 * Chooses a problem's answer among its terminal answers (ties go to the earliest):
 * - "value": the answer of the highest-valued trajectory (official pass@1 for MCTS + PPM);
 * - "majority": the most frequent answer among the top-k by value, answers grouped by the grader's equivalence;
 * - "weighted": like majority, each vote weighted by (value + 1) / 2, which maps tanh scores in [-1, 1] to [0, 1].
 */
export async function selectAnswer(
    answers: readonly TerminalAnswer[],
    mode: AnswerSelection,
    topK: number,
    judge: AnswerJudge,
): Promise<TerminalAnswer | null> {
    if (answers.length === 0) return null;
    const byValue = answers.map((answer, order) => ({ answer, order })).sort((a, b) => b.answer.value - a.answer.value || a.order - b.order);
    if (mode === "value") return byValue[0]?.answer ?? null;

    const pool = (topK > 0 ? byValue.slice(0, topK) : byValue).sort((a, b) => a.order - b.order).map((entry) => entry.answer);
    const groups: { representative: TerminalAnswer; weight: number; first: number }[] = [];
    for (const [order, candidate] of pool.entries()) {
        const weight = mode === "majority" ? 1 : (candidate.value + 1) / 2;
        let group: (typeof groups)[number] | undefined;
        for (const existing of groups) {
            if (existing.representative.answer === candidate.answer || (await judge.equal(existing.representative.answer, candidate.answer))) {
                group = existing;
                break;
            }
        }
        if (group) {
            group.weight += weight;
            if (candidate.value > group.representative.value) group.representative = { ...candidate, correct: candidate.correct };
        } else {
            groups.push({ representative: candidate, weight, first: order });
        }
    }
    groups.sort((a, b) => b.weight - a.weight || a.first - b.first);
    return groups[0]?.representative ?? null;
}
