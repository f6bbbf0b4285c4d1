import { RstarError } from "../errors/index.js";
import type { GenerateRequest } from "./types.js";

/** Checks a generate request against the contract's ranges; throws INVALID_ARGUMENT listing every problem. */
export function validateGenerateRequest(request: GenerateRequest): void {
    const problems: string[] = [];
    if (typeof request.prompt !== "string") problems.push("prompt must be a string");
    if (!Number.isInteger(request.n) || request.n < 1) problems.push(`n must be an integer >= 1, got ${request.n}`);
    if (!Number.isInteger(request.maxTokens) || request.maxTokens < 1) problems.push(`maxTokens must be an integer >= 1, got ${request.maxTokens}`);
    if (!(request.temperature >= 0)) problems.push(`temperature must be >= 0, got ${request.temperature}`);
    if (!(request.topP > 0 && request.topP <= 1)) problems.push(`topP must be in (0, 1], got ${request.topP}`);
    if (request.seed !== undefined && !Number.isInteger(request.seed)) problems.push(`seed must be an integer, got ${request.seed}`);
    if (!Array.isArray(request.stop) || request.stop.some((stop) => typeof stop !== "string")) problems.push("stop must be an array of strings");
    if (problems.length > 0) throw new RstarError("INVALID_ARGUMENT", `invalid generate request: ${problems.join("; ")}`);
}
