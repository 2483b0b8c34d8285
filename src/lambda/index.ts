export {
  envName,
  FUNCTION_SPINNING,
  type FunctionConfig,
  functionConfig,
  LAMBDA_RESPONSE_LIMIT,
} from "./config.js";
export { createFunction, type EdgepoolFunction, type FunctionOptions } from "./function.js";
export { type ColdStartPhase, type EngineLoader, FunctionInstance } from "./instance.js";
export { limitResponse } from "./response-limit.js";
export { type BufferedHandler, lambdaHandlers, type StreamingHandler } from "./runtime.js";
