export {
  envName,
  FUNCTION_SPINNING,
  type FunctionConfig,
  functionConfig,
  LAMBDA_RESPONSE_LIMIT,
} from "../config/function.js";
export { functionStoreServices } from "../config/function-store.js";
export { createFunction, type EdgepoolFunction, type FunctionOptions } from "./function.js";
export { type ColdStartPhase, type EngineLoader, FunctionInstance } from "./instance.js";
export { type JobQueue, SQS_MAX_DELAY_SECONDS, sqsJobQueue, sqsJobsHandler } from "./jobs.js";
export { createJobsWorkerFunction, type JobsWorkerFunction } from "./jobs-worker.js";
export { createRerankJobsFunction, type RerankJobsFunction } from "./rerank-jobs.js";
export { limitResponse } from "./response-limit.js";
export { type BufferedHandler, lambdaHandlers, type StreamingHandler } from "./runtime.js";
export { type ParameterReader, SECRET_VARS, ssmParameters, withSecrets } from "./secrets.js";
export { functionVersion } from "./version.js";
