import { type ActivationSpellings, resolveUseActivation } from "../core/index.js";
import type { RequestScope } from "./context.js";

/**
 * Record a deprecation/compatibility warning for this request: the server logs it and the
 * response carries it in a `Warning: 299` header.
 */
export function warn(c: RequestScope, message: string): void {
  const list = c.get("warnings");
  if (list) list.push(message);
  else c.set("warnings", [message]);
}

/** The request's `use_activation`, reading vLLM's deprecated spellings as it (with a warning). */
export function useActivationOf(c: RequestScope, body: ActivationSpellings): boolean | null {
  return resolveUseActivation(body, (m) => warn(c, m));
}

/** The `Warning` header value for the request's warnings (RFC 9110 warn-code 299). */
export function warningHeader(messages: readonly string[]): string {
  // Header values must be visible ASCII: anything else is escaped as \uXXXX.
  const ascii = (m: string) =>
    JSON.stringify(m).replace(
      /[^\x20-\x7e]/g,
      (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`,
    );
  return messages.map((m) => `299 edgepool ${ascii(m)}`).join(", ");
}
