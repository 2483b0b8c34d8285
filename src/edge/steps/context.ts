import type { Context, MiddlewareHandler } from "hono";
import { errorBody } from "../../api/errors.js";
import type { EdgeConfig } from "../../config/worker.js";
import type { EdgeCache, EdgeEnv } from "../bindings.js";
import type { ApiKey, GatewayLedger } from "../ledger.js";

/** What the gateway's steps hand on to each other, on the Hono context. */
export interface GatewayVars {
  config: EdgeConfig;
  ledger: GatewayLedger;
  requestId: string;
  started: number;
  /** The caller's key (set by auth). */
  key: ApiKey;
  /** The request body, buffered so that it can be replayed to another origin. */
  body: Uint8Array<ArrayBuffer> | null;
  /** The body parsed as JSON; undefined when absent or not JSON. */
  json: unknown;
  /** The request's `model`, when its body names one. */
  model: string | null;
}

export type GatewayEnv = { Bindings: EdgeEnv; Variables: GatewayVars };
export type GatewayContext = Context<GatewayEnv>;
export type Step = MiddlewareHandler<GatewayEnv>;

/** Where the gateway's store and cache come from (tests may pass others). */
export interface GatewayDeps {
  ledger(env: EdgeEnv): GatewayLedger;
  cache(): EdgeCache;
}

/** Response headers: who answered (an origin's region, `worker`), and whether from the cache. */
export const ORIGIN_HEADER = "x-edgepool-origin";
export const CACHE_HEADER = "x-edgepool-cache";
/** Origins passed over before the one that answered, each with why (`us-east-1: circuit open`). */
export const SKIPPED_HEADER = "x-edgepool-skipped";
/** On answers from the in-Worker model: bytes of its wasm heap, against the 128 MB isolate. */
export const HEAP_HEADER = "x-edgepool-wasm-heap";

/** An error in the API's documented shape. */
export function problem(
  status: number,
  message: string,
  type: string,
  headers: Record<string, string> = {},
): Response {
  return Response.json(errorBody(message, type, status), { status, headers });
}

/** A copy of `res` with these headers set. */
export function withHeaders(res: Response, headers: Record<string, string>): Response {
  const out = new Response(res.body, res);
  for (const [k, v] of Object.entries(headers)) out.headers.set(k, v);
  return out;
}

/** Replace the context's response outright (Hono's setter would copy the old one's headers over). */
export function replaceResponse(c: GatewayContext, res: Response): void {
  c.res = undefined;
  c.res = res;
}
