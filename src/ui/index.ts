/** `rstar ui`: a local, read-only web viewer of search, eval and evolve runs (docs/ui.md). */
export { startUiServer } from "./server.js";
export type { UiServer, UiServerOptions } from "./server.js";
export type { RunListEntry, RunProgress, ProblemRow, ProblemTree, TreeNode } from "./api-types.js";
export type { RunKind } from "./catalog.js";
