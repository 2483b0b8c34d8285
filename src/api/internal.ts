import type { Context } from "hono";
import type { LedgerRow } from "../store/ledger.js";
import type { Principal } from "./context.js";

const INTERNAL = Symbol("edgepool.internal");
const USAGE = Symbol("edgepool.internal.usage");

/**
 * The env for a request the process makes to its own app (a rerank job running for its owner): it
 * passes authentication as `principal` and is metered without being admitted again; with
 * `usage`, its ledger row is handed there (to be written with the job's result) instead of
 * being recorded. No HTTP request can carry it.
 */
export function internalEnv(
  principal: Principal,
  usage?: (row: LedgerRow) => void,
): Record<symbol, unknown> {
  return { [INTERNAL]: principal, ...(usage ? { [USAGE]: usage } : {}) };
}

function internal(c: Context): Record<symbol, unknown> | undefined {
  const env = c.env as Record<symbol, unknown> | undefined;
  return env && typeof env === "object" ? env : undefined;
}

export function internalPrincipal(c: Context): Principal | undefined {
  return internal(c)?.[INTERNAL] as Principal | undefined;
}

/** Where an internal request's ledger row goes instead of the ledger, if anywhere. */
export function internalUsage(c: Context): ((row: LedgerRow) => void) | undefined {
  return internal(c)?.[USAGE] as ((row: LedgerRow) => void) | undefined;
}
