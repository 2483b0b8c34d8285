import { z } from "@hono/zod-openapi";
import { type ActivationSpellings, resolveUseActivation } from "../core/index.js";
import type { Ctx, RequestScope } from "./context.js";

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

/**
 * Fields of a JSON body that its (strict-shape) schema does not read: accepted, as vLLM does, and
 * said in a warning with vLLM's wording rather than dropped without a word.
 */
export function warnIgnoredFields(c: Ctx, json: Record<string, unknown>, schema: z.ZodType): void {
  if (!(schema instanceof z.ZodObject) || schema.def.catchall !== undefined) return;
  const shape = schema.shape as Record<string, unknown>;
  const ignored = Object.keys(json).filter((k) => !Object.hasOwn(shape, k));
  if (ignored.length > 0) {
    // Bounded: a body with thousands of odd keys gets a short header.
    const named = ignored.slice(0, 16).map((k) => `'${k.slice(0, 64)}'`);
    if (ignored.length > 16) named.push(`… ${ignored.length - 16} more`);
    warn(c, `The following fields were present in the request but ignored: {${named.join(", ")}}`);
  }
}
