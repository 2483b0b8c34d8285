import type { MiddlewareHandler } from "hono";
import type { ApiEnv } from "./context.js";
import type { ErrorBody } from "./errors.js";

/** TEI's error body: `{"error": message, "error_type": kind}`. */
export interface TeiErrorBody {
  error: string;
  error_type: string;
}

/**
 * TEI's status and error type for one of ours: validation 422, a task the model lacks 424
 * (TEI's Backend error, e.g. "model is not a re-ranker model"), over capacity 429 Overloaded,
 * not ready 503 Unhealthy; other statuses keep their code.
 */
export function teiError(status: number, body: ErrorBody): { status: number; body: TeiErrorBody } {
  const error = body.error.message;
  switch (status) {
    case 400:
      return { status: 422, body: { error, error_type: "Validation" } };
    case 404:
      return { status: 424, body: { error, error_type: "Backend" } };
    case 413:
      return { status: 413, body: { error, error_type: "Validation" } };
    case 429:
      return { status: 429, body: { error, error_type: "Overloaded" } };
    case 503:
      return { status: 503, body: { error, error_type: "Unhealthy" } };
    case 401:
      return { status: 401, body: { error, error_type: "Unauthorized" } };
    default:
      return { status, body: { error, error_type: "Backend" } };
  }
}

/** The routes that only TEI has: their errors take TEI's shape and status codes. */
export const TEI_ROUTES: ReadonlySet<string> = new Set([
  "/",
  "/invocations",
  "/info",
  "/embed",
  "/embed_all",
  "/embed_sparse",
  "/predict",
  "/similarity",
]);

/** The error shape of a path's answers: TEI's for the routes only TEI has. */
export const errorStyleOf = (path: string): "tei" | undefined =>
  TEI_ROUTES.has(path) ? "tei" : undefined;

/** Mark requests to TEI routes so that `onError` answers in TEI's error shape. */
export const teiErrorStyle: MiddlewareHandler<ApiEnv> = async (c, next) => {
  const style = errorStyleOf(c.req.path);
  if (style) c.set("errorStyle", style);
  await next();
};
