import type { Logger } from "pino";
import { storeSpecFrom } from "../store/spec.js";
import { envName } from "./function.js";
import { listFrom } from "./list.js";
import type { StoreServices } from "./store-services.js";

/**
 * Metering and jobs of a function, from its environment: the store from `DATABASE_URL` (a pooled
 * connection string: RDS Proxy, PgBouncer, Neon, Supabase…) or `EDGEPOOL_STORE`, and every
 * `serve` store flag as `EDGEPOOL_<FLAG>` (lists comma-separated). Ledger rows are written before
 * each response (`EDGEPOOL_LEDGER_FLUSH_MS` defaults to 0): a frozen instance flushes nothing.
 * Without a store (nor webhook secrets, which need one) nothing is loaded: the store, metering
 * and jobs code stays out of the function's start.
 */
export async function functionStoreServices(
  env: NodeJS.ProcessEnv,
  log: Logger,
): Promise<StoreServices | null> {
  if (!storeSpecFrom(undefined, env) && listFrom(env.EDGEPOOL_WEBHOOK_SECRETS).length === 0) {
    return null;
  }
  const [{ SERVE_STORE_FLAGS }, { storeServices }] = await Promise.all([
    import("./store-flags.js"),
    import("./store-services.js"),
  ]);
  const values: Record<string, string | string[] | boolean | undefined> = {};
  for (const [flag, spec] of Object.entries(SERVE_STORE_FLAGS)) {
    if (flag === "webhook-secret" || flag === "inbound-webhook-secret") continue; // read as lists
    const v = env[envName(flag)];
    if (v === undefined || v === "") continue;
    if (spec.type === "boolean") values[flag] = v === "1" || v === "true";
    else if ("multiple" in spec && spec.multiple) values[flag] = listFrom(v);
    else values[flag] = v;
  }
  values["ledger-flush-ms"] ??= "0";
  values["job-worker"] = "off";
  // A frozen instance reads no notification: its cached keys live --key-cache-ms at most.
  return storeServices(values, log, env, { watchKeys: false });
}
