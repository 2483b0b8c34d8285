import { EdgepoolError } from "../core/index.js";

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
