export { readJsonLines, parseJson, isPlainObject } from "./jsonl.js";
export type { JsonLine } from "./jsonl.js";
export { packageRoot, pythonAsset } from "./package-root.js";
export { findPython } from "./python.js";
export type { PythonRequirement } from "./python.js";
export { seededRandom } from "./seeded-random.js";
