export { RstarError, InputError, describeError } from "./rstar-error.js";
export type { RstarErrorCode, RstarErrorOptions } from "./rstar-error.js";
