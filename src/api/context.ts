/** Per-request timings, reported in TEI's headers and metrics (milliseconds). */
export interface Timing {
  start: number;
  tokenization: number;
  queue: number;
  inference: number;
  inputTokens: number;
}

export type ApiEnv = {
  Variables: {
    requestId: string;
    timing: Timing;
    /** Largest response a request may cause, estimated before running (`--max-response-bytes`). */
    maxResponseBytes: number;
    /** The estimate for this request's response, once its prompts are tokenized. */
    outputBytes: number;
  };
};
