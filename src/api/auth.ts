import type { MiddlewareHandler } from "hono";
import { staticKeyId } from "../metering/api-keys.js";
import type { ApiKey } from "../store/keys.js";
import type { ApiEnv } from "./context.js";
import { isDocsPath } from "./docs.js";
import { AuthenticationError } from "./errors.js";
import { internalPrincipal } from "./internal.js";

/** Compare in time that depends only on the candidate's length, not on where it differs. */
export function constantTimeEqual(a: string, b: string): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < a.length; i++)
    diff |= a.charCodeAt(i) ^ b.charCodeAt(i % Math.max(b.length, 1));
  return diff === 0;
}

/**
 * Static API keys as given (flags, environment, options): an empty or whitespace-only key would
 * turn authentication off or match a blank header, so it is refused, as is a key with surrounding
 * whitespace (headers are trimmed, so it could never match).
 */
export function checkApiKeys(keys: readonly string[], source = "API key"): string[] {
  for (const key of keys) {
    if (key.trim() === "") throw new Error(`${source} must not be empty or whitespace`);
    if (key !== key.trim()) throw new Error(`${source} must not start or end with whitespace`);
  }
  return [...keys];
}

const PUBLIC = new Set(["/health", "/ping", "/metrics", "/version", "/openapi.json"]);

/** Finds the live stored key for a presented secret (by its hash), or null. */
export type KeyResolver = (secret: string) => Promise<ApiKey | null>;

/**
 * Bearer (or `x-api-key`) authentication against any of the static `keys` (empty or blank ones
 * are refused) or, with `resolve`, the keys in the store; health, metrics, the spec and the API
 * page (`/docs` and its files) stay public.
 * Sets the request's `principal`.
 */
export function apiKeyAuth(
  keys: readonly string[],
  resolve?: KeyResolver,
): MiddlewareHandler<ApiEnv> {
  const staticKeys = checkApiKeys(keys);
  const staticIds = Promise.all(staticKeys.map(staticKeyId));
  return async (c, next) => {
    const internal = internalPrincipal(c);
    if (internal) {
      c.set("principal", internal);
      return next();
    }
    const path = c.req.path;
    if ((staticKeys.length === 0 && !resolve) || PUBLIC.has(path) || isDocsPath(path)) {
      return next();
    }
    const header = c.req.header("authorization") ?? "";
    const token = /^bearer\s+/i.test(header)
      ? header.replace(/^bearer\s+/i, "").trim()
      : (c.req.header("x-api-key") ?? "").trim();
    let match = -1;
    staticKeys.forEach((key, i) => {
      if (constantTimeEqual(token, key)) match = i;
    });
    if (match >= 0) {
      c.set("principal", { keyId: (await staticIds)[match]!, key: null });
      return next();
    }
    const key = token && resolve ? await resolve(token) : null;
    if (!key) throw new AuthenticationError();
    c.set("principal", { keyId: key.id, key });
    return next();
  };
}
