export { DEFAULT_RETRY, nominalDelay, type RetryPolicy, retryDelay } from "./backoff.js";
export {
  type CallbackPolicy,
  DEFAULT_CALLBACK_POLICY,
  isNonPublicAddress,
  validateCallbackUrl,
} from "./callback-url.js";
export { type DeliveryResult, postCallback } from "./delivery.js";
export * from "./options.js";
export { CallbackSigner, InboundVerifier, WEBHOOK_TOLERANCE_MS } from "./signing.js";
export { callbackBody, type ExecuteJob, JobWorker, type SendCallback } from "./worker.js";
