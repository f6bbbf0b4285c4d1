export type { RewardModel, RewardItem } from "./types.js";
export { ScriptedRewardModel } from "./scripted-reward-model.js";
