import { type ActivationSpellings, resolveUseActivation } from "../core/index.js";
import type { Ctx } from "./route.js";

/**
 * Record a deprecation/compatibility warning for this request: the server logs it and the
 * response carries it in a `Warning: 299` header.
 */
export function warn(c: Ctx, message: string): void {
  const list = c.get("warnings");
  if (list) list.push(message);
  else c.set("warnings", [message]);
}

/** The request's `use_activation`, reading vLLM's deprecated spellings as it (with a warning). */
export function useActivationOf(c: Ctx, body: ActivationSpellings): boolean | null {
  return resolveUseActivation(body, (m) => warn(c, m));
}

/** The `Warning` header value for the request's warnings (RFC 9110 warn-code 299). */
export function warningHeader(messages: readonly string[]): string {
  return messages.map((m) => `299 edgepool ${JSON.stringify(m)}`).join(", ");
}
