export { Marker, ALL_MARKERS, STEP_STOPS, BOOTSTRAP_STOPS, STEP_DELIMITER, inferStepStop } from "./markers.js";
export type { MarkerText } from "./markers.js";
export { sftPrompt, bootstrapPrompt, renderPrompt, chatPromptFormatter } from "./prompts.js";
export type { PromptFormatter, PromptTemplateName } from "./prompts.js";
export { BOOTSTRAP_EXAMPLES, BOOTSTRAP_INSTRUCTIONS } from "./bootstrap-examples.js";
export { parseStep, extractCode } from "./parse-step.js";
export type { ParsedStep, CompletionEnding, MalformedReason, UnmarkedEnding } from "./parse-step.js";
export { programForStep, outputSuffix, closeCodeStep } from "./program.js";
