import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { ApiKey } from "../store/keys.js";

/** Per-request timings, reported in TEI's headers and metrics (milliseconds). */
export interface Timing {
  start: number;
  tokenization: number;
  queue: number;
  inference: number;
  inputTokens: number;
  /** Inputs (prompts, or pairs for scoring) the request ran. */
  inputs: number;
  /** The served name of the model the request ran on; null before (or without) a run. */
  model: string | null;
}

/** Who is calling: a stored API key, or a static `--api-key` (no record in the store). */
export interface Principal {
  /** The ledger's key id: the stored key's id, or `static:` + the start of the key's hash. */
  keyId: string;
  key: ApiKey | null;
}

export type ApiEnv = {
  Variables: {
    requestId: string;
    timing: Timing;
    /** Largest response a request may cause, estimated before running (`--max-response-bytes`). */
    maxResponseBytes: number;
    /** The estimate for this request's response, once its prompts are tokenized. */
    outputBytes: number;
    /** Deprecation/compatibility warnings for this request (see `warnings.ts`). */
    warnings?: string[];
    /** Errors in TEI's shape (`{error, error_type}`) for TEI routes. */
    errorStyle?: "tei";
    principal: Principal | undefined;
    /**
     * Set by a route whose request is billed elsewhere: `deferred` (a job submission that stored
     * a job: its row comes with the job's result), `none` (no new work: a replayed submission).
     */
    billing?: "deferred" | "none";
  };
};

/** The app every runtime mounts, and a request's context in it. */
export type App = OpenAPIHono<ApiEnv>;
export type Ctx = Context<ApiEnv>;

type Vars = ApiEnv["Variables"];

/**
 * What running a request reads and writes on it: its variables (timing record, limits,
 * warnings) and its abort signal. Hono's context is one; the server's direct path
 * (`api/direct.ts`) has its own.
 */
export interface RequestScope {
  get<K extends keyof Vars>(key: K): Vars[K];
  set<K extends keyof Vars>(key: K, value: Vars[K]): void;
  readonly req: { readonly raw: { readonly signal: AbortSignal } };
}

type LogFn = (fields: object, message: string) => void;

/** The log lines the app writes (a pino logger is one). */
export interface AppLogger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
}
