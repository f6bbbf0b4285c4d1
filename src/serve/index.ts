export { startRstarServer } from "./server.js";
export type { RstarServer, RstarServerOptions, ServerStats } from "./server.js";
export { DEFAULT_MAX_TOKENS, chatRequestSchema, completionRequestSchema } from "./generation-routes.js";
export { chatPrompt } from "./chat-template.js";
export { poolingRequestSchema } from "./routes.js";
export type { HiddenStateSource } from "./routes.js";
export { defaultSolverModels, solverRequestSchema } from "./solver-routes.js";
export type { SolverConfig } from "./solver-routes.js";
