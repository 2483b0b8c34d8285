/** Request limits (flags `--max-client-batch-size`, `--payload-limit`). */
export const DEFAULT_MAX_CLIENT_BATCH_SIZE = 2048;
export const DEFAULT_PAYLOAD_LIMIT = 2_000_000;
/** Largest response, estimated from inputs × tokens × width before running (`--max-response-bytes`). */
export const DEFAULT_MAX_RESPONSE_BYTES = 256 * 1024 * 1024;
