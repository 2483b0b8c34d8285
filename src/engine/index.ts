export { DEFAULT_TEMPLATE_LIMITS, type TemplateLimits } from "./template-limits.js";

import "./node/bounded-template.js";

export { type AssembleOptions, assembleEngine, type LoadPhase } from "./assemble.js";
export type { ChatMessage, ChatOptions } from "./chat.js";
export { ENGINE_DEFAULTS } from "./defaults.js";
export { Engine } from "./engine.js";
export type {
  IOProcessor,
  IOProcessorContext,
  IOProcessorInput,
} from "./io-processor.js";
export * from "./llm.js";
export { type EngineOptions, loadEngine } from "./node/load.js";
export type { SessionOptions } from "./node/session.js";
export type { Device, RunDevice } from "./onnx-model.js";
export type { Prompt, PromptOptions } from "./prompts.js";
export {
  type RequestTimings,
  Scheduler,
  type SchedulerOptions,
  type SchedulerStats,
} from "./scheduler.js";
export { TextTokenizer, type TruncationSide } from "./tokenizer.js";
export type * from "./types.js";
