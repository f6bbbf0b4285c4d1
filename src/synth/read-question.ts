import type { Fact, QuestionSentence, Story } from "./story.js";
import { FACT_TEMPLATES, QUESTION_TEMPLATES, matchTemplate } from "./templates.js";

/** Splits question text into sentences (the generator never puts periods inside a sentence). */
export function splitSentences(text: string): string[] {
    return text
        .trim()
        .split(/(?<=[.?!])\s+/)
        .map((sentence) => sentence.trim())
        .filter((sentence) => sentence !== "");
}

/**
 * Reads a synthetic word problem back into its story: the last sentence is the question, every other sentence a fact.
 * A sentence no template fits is kept as a distractor (template "unknown"). Returns null when the last sentence is not
 * a question the domain knows.
 */
export function readQuestion(text: string): Story | null {
    const sentences = splitSentences(text);
    const last = sentences.pop();
    if (last === undefined) return null;
    let question: QuestionSentence | null = null;
    for (const template of QUESTION_TEMPLATES) {
        const slots = matchTemplate(template, last);
        if (slots !== null) {
            question = { kind: template.kind, template: template.id, text: last, slots };
            break;
        }
    }
    if (question === null) return null;
    const facts = sentences.map((sentence): Fact => {
        for (const template of FACT_TEMPLATES) {
            const slots = matchTemplate(template, sentence);
            if (slots !== null) return { kind: template.kind, template: template.id, text: sentence, slots };
        }
        return { kind: "distractor", template: "unknown", text: sentence, slots: {} };
    });
    const item = question.kind === "money-left" ? "dollars" : question.slots.items;
    if (item === undefined) return null;
    return { item, facts, question };
}
