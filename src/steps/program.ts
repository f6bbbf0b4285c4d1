import { Marker, STEP_DELIMITER } from "./markers.js";
import { extractCode } from "./parse-step.js";

/**
 * The program to execute after a new code step: the code of the trajectory's steps since the last step that closed
 * a code block (`<end_of_code>` or an `<output>`), in order, followed by the new step's code. This is what the
 * official implementation runs (`collect_action_inputs` + `extract_program`): earlier code blocks have already
 * printed their answer, so they are not re-run.
 *
 * @param previousSteps texts of the steps before the new one, root first (as they appear in the trajectory)
 * @param stepText the new step's text (completion plus stop string)
 */
export function programForStep(previousSteps: readonly string[], stepText: string): string {
    let start = previousSteps.length;
    while (start > 0) {
        const text = previousSteps[start - 1] ?? "";
        if (text.includes(Marker.codeEnd) || text.includes(Marker.outputEnd)) break;
        start -= 1;
    }
    return extractCode(previousSteps.slice(start).join("") + stepText);
}

/** The text appended to the trajectory after the last code step: the delimiter and `<output>…<end_of_output>`. */
export function outputSuffix(observation: string): string {
    return `${STEP_DELIMITER}${Marker.output}${observation}${Marker.outputEnd}`;
}

/**
 * Closes a code step whose trajectory must end here (the last code step, or too many consecutive errors):
 * adds `<end_of_code>` when missing, then the output block, as the official `create_child` does.
 */
export function closeCodeStep(stepText: string, observation: string): string {
    const closed = stepText.includes(Marker.codeEnd) ? stepText : stepText + Marker.codeEnd;
    return closed + outputSuffix(observation);
}
