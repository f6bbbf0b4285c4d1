/** Training tiny models: TypeScript drivers of the PyTorch trainers in train/ (see docs/training.md). */
export { findTrainingPython, makeTestModel, runTrainer, trainerScript, trainPpm, trainSft } from "./python-trainer.js";
export type { PpmOptions, RunHooks, SftOptions, TestModelOptions, TrainEvent, TrainResult } from "./python-trainer.js";
export { describeTrainEvent } from "./describe-event.js";
