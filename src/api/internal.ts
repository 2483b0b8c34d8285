import type { Context } from "hono";
import type { Principal } from "./context.js";

const INTERNAL = Symbol("edgepool.internal");

/**
 * The env for a request the process makes to its own app (a rerank job running for its owner): it
 * passes authentication as `principal` and is metered without being admitted again. No HTTP
 * request can carry it.
 */
export function internalEnv(principal: Principal): Record<symbol, Principal> {
  return { [INTERNAL]: principal };
}

export function internalPrincipal(c: Context): Principal | undefined {
  const env = c.env as Record<symbol, Principal | undefined> | undefined;
  return env && typeof env === "object" ? env[INTERNAL] : undefined;
}
