/** Training tiny models: TypeScript drivers of the PyTorch trainers in train/ (see docs/training.md). */
export { evalPpm, findTrainingPython, makeTestModel, runTrainer, trainerScript, trainPpm, trainSft } from "./python-trainer.js";
export type { HeldoutReport, PairAccuracy, PairKind, PpmEvalOptions, PpmOptions, RunHooks, SftOptions, TestModelOptions, TrainEvent, TrainResult } from "./python-trainer.js";
export { describeHeldout, describeTrainEvent } from "./describe-event.js";
