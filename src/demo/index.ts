export { runDemo, demoSettings } from "./run-demo.js";
export type { DemoOptions, DemoRow } from "./run-demo.js";
export { locateShippedModels, defaultModelsDir } from "./shipped-models.js";
export type { ShippedModels } from "./shipped-models.js";
