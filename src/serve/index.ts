export { startRstarServer } from "./server.js";
export type { RstarServer, RstarServerOptions } from "./server.js";
export { DEFAULT_MAX_TOKENS, completionRequestSchema, poolingRequestSchema } from "./routes.js";
export type { HiddenStateSource } from "./routes.js";
