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
  };
};
