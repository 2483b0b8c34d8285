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
    /** Deprecation/compatibility warnings for this request (see `warnings.ts`). */
    warnings?: string[];
    /** Errors in TEI's shape (`{error, error_type}`) for TEI routes. */
    errorStyle?: "tei";
  };
};
