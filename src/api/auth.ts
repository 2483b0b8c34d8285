import type { MiddlewareHandler } from "hono";
import type { ApiEnv } from "./context.js";
import { AuthenticationError } from "./errors.js";

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

const PUBLIC = new Set(["/health", "/ping", "/metrics", "/version", "/openapi.json", "/docs"]);

/** Bearer (or `x-api-key`) authentication against any of `keys`; health, metrics and docs stay public. */
export function apiKeyAuth(keys: readonly string[]): MiddlewareHandler<ApiEnv> {
  checkApiKeys(keys);
  return async (c, next) => {
    if (keys.length === 0 || PUBLIC.has(c.req.path)) return next();
    const header = c.req.header("authorization") ?? "";
    const token = /^bearer\s+/i.test(header)
      ? header.replace(/^bearer\s+/i, "").trim()
      : (c.req.header("x-api-key") ?? "");
    let ok = false;
    for (const key of keys) ok = constantTimeEqual(token, key) || ok;
    if (!ok) throw new AuthenticationError();
    return next();
  };
}
