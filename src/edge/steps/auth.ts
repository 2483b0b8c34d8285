import { MIGRATE_HINT } from "../ledger.js";
import { problem, type Step } from "./context.js";

function bearer(req: Request): string {
  const header = req.headers.get("authorization") ?? "";
  if (/^bearer\s+/i.test(header)) return header.replace(/^bearer\s+/i, "").trim();
  return req.headers.get("x-api-key") ?? "";
}

const missingTables = (err: unknown) => /no such table/i.test((err as Error).message ?? "");

/** The caller's API key (sha256 looked up in D1): 401 without a valid one. */
export const auth: Step = async (c, next) => {
  let key: Awaited<ReturnType<typeof c.var.ledger.findKey>>;
  try {
    key = await c.var.ledger.findKey(bearer(c.req.raw));
  } catch (err) {
    if (!missingTables(err)) throw err;
    return problem(503, `The key store has no tables: ${MIGRATE_HINT}`, "ServiceUnavailableError");
  }
  if (!key) return problem(401, "Invalid or missing API key", "AuthenticationError");
  c.set("key", key);
  await next();
};
