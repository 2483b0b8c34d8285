import type { Context } from "hono";
import type { z } from "zod";
import { BadRequestError } from "../core/index.js";

function describeIssue(issue: z.core.$ZodIssue): { message: string; param: string | null } {
  const param = issue.path.length > 0 ? issue.path.map(String).join(".") : null;
  return { message: param ? `${param}: ${issue.message}` : issue.message, param };
}

/** Validate a parsed JSON value against a schema, as a 400 in the documented shape. */
export function validate<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const result = schema.safeParse(value);
  if (!result.success) {
    const { message, param } = describeIssue(result.error.issues[0]!);
    throw new BadRequestError(message, param);
  }
  return result.data;
}

/** A JSON media type (`application/json`, `application/…+json`), parameters allowed. */
export function isJsonContentType(type: string): boolean {
  return /^application\/([\w.+-]+\+)?json\b/i.test(type.trim());
}

/**
 * Read a JSON request body: JSON content type (or none), valid JSON, an object, then the schema.
 * Every failure is a 400 BadRequestError.
 */
export async function readBody<S extends z.ZodType>(
  c: Context,
  schema: S,
  inspect?: (json: Record<string, unknown>) => void,
): Promise<z.infer<S>> {
  const type = c.req.header("content-type");
  if (type && !isJsonContentType(type)) {
    throw new BadRequestError(`Content-Type must be application/json, got '${type}'`);
  }
  const text = await c.req.text();
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new BadRequestError(`Malformed JSON in request body: ${(err as Error).message}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new BadRequestError("The request body must be a JSON object");
  }
  inspect?.(value as Record<string, unknown>);
  return validate(schema, value);
}
