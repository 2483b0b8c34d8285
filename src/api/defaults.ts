/** Request limits (flags `--max-client-batch-size`, `--payload-limit`). */
export const DEFAULT_MAX_CLIENT_BATCH_SIZE = 2048;
export const DEFAULT_PAYLOAD_LIMIT = 2_000_000;
