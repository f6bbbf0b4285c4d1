/** Answer grading: final-answer extraction and equivalence (see docs/grading.md). */
export { extractAnswer, finalAnswer } from "./extract.js";
export type { AnswerSource, FinalAnswer } from "./extract.js";
export { createGrader, equalFast } from "./grader.js";
export type { Grader, GraderOptions, JudgeOptions, Judgement } from "./grader.js";
export { analyze } from "./answer.js";
export type { Answer } from "./answer.js";
export type { Node as AnswerNode } from "./ast.js";
