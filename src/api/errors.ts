import { EdgepoolError, TooManyRequestsError } from "../core/index.js";
import type { AppLogger } from "./context.js";
import { type TeiErrorBody, teiError } from "./tei-errors.js";

export interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: number };
}

export function errorBody(
  message: string,
  type: string,
  code: number,
  param: string | null = null,
): ErrorBody {
  return { error: { message, type, param, code } };
}

export class ServiceUnavailableError extends EdgepoolError {
  constructor(message: string) {
    super(message, 503, "ServiceUnavailableError");
  }
}

export class PayloadTooLargeError extends EdgepoolError {
  constructor(limit: number) {
    super(
      `Request body is larger than the payload limit of ${limit} bytes`,
      413,
      "BadRequestError",
    );
  }
}

export class AuthenticationError extends EdgepoolError {
  constructor() {
    super("Invalid or missing API key", 401, "AuthenticationError");
  }
}

/** Map any thrown value to a status and the documented error body; unknown errors become 500 without details. */
export function toErrorResponse(err: unknown): { status: number; body: ErrorBody } {
  if (err instanceof EdgepoolError) {
    return { status: err.status, body: errorBody(err.message, err.type, err.status, err.param) };
  }
  return { status: 500, body: errorBody("Internal server error", "InternalServerError", 500) };
}

/** An error's answer: status, the body in the route's error shape, and its extra headers. */
export interface ErrorAnswer {
  status: number;
  body: ErrorBody | TeiErrorBody;
  headers: Array<[string, string]>;
}

/**
 * The answer to a thrown value, for the app's error handler and the server's direct path alike:
 * the documented error body, or TEI's for TEI's routes, and `retry-after` for a 429.
 */
export function errorAnswer(err: unknown, style: "tei" | undefined): ErrorAnswer {
  const { status, body } = toErrorResponse(err);
  const headers: Array<[string, string]> = [];
  if (err instanceof TooManyRequestsError) {
    headers.push(["retry-after", String(err.retryAfterSeconds)]);
  }
  if (style === "tei") return { ...teiError(status, body), headers };
  return { status, body, headers };
}

/** Log a failure the client cannot act on (a 5xx other than 503, not ready). */
export function logFailure(log: AppLogger | undefined, err: unknown, status: number, path: string) {
  if (status >= 500 && status !== 503) log?.error({ err, path }, "request failed");
}
