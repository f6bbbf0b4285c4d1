export { loadDataset } from "./datasets.js";
export type { DatasetProblem } from "./datasets.js";
