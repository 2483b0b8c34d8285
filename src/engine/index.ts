export type { ChatMessage, ChatOptions } from "./chat.js";
export {
  Engine,
  type EngineOptions,
  type PooledResult,
  type ScoreResult,
  type TokenizedPrompt,
} from "./engine.js";
export * from "./llm.js";
export type { Prompt, PromptOptions } from "./prompts.js";
export type { Device, SessionOptions } from "./session.js";
export { TextTokenizer, type TruncationSide } from "./tokenizer.js";
