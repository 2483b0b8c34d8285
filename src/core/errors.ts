/** Errors that carry an HTTP status and an OpenAI-style error type, thrown anywhere below the API. */
export class EdgepoolError extends Error {
  readonly status: number;
  readonly type: string;
  readonly param: string | null;

  constructor(message: string, status: number, type: string, param: string | null = null) {
    super(message);
    this.name = type;
    this.status = status;
    this.type = type;
    this.param = param;
  }
}

/** Invalid input: schema, ranges, shapes, lengths. HTTP 400. */
export class BadRequestError extends EdgepoolError {
  constructor(message: string, param: string | null = null) {
    super(message, 400, "BadRequestError", param);
  }
}

/** An unknown model, or a route this model cannot serve. HTTP 404. */
export class NotFoundError extends EdgepoolError {
  constructor(message: string, param: string | null = null) {
    super(message, 404, "NotFoundError", param);
  }
}

/** Over capacity: the queue is full. HTTP 429 with `Retry-After`. */
export class TooManyRequestsError extends EdgepoolError {
  readonly retryAfterSeconds: number;
  constructor(message: string, retryAfterSeconds = 1) {
    super(message, 429, "TooManyRequestsError");
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** A request whose answer would exceed the response limit (`--max-response-bytes`), refused before any compute. */
export class ResponseTooLargeError extends EdgepoolError {
  constructor(estimate: number, limit: number, param: string) {
    super(
      `The response would be about ${estimate} bytes, over the limit of ${limit} bytes: send fewer or shorter inputs`,
      413,
      "BadRequestError",
      param,
    );
  }
}

/** The caller went away (client disconnected) before the work ran. */
export class CancelledError extends EdgepoolError {
  constructor() {
    super("The request was cancelled", 499, "CancelledError");
  }
}

/** The model cannot run the requested pooling task. */
export class UnsupportedTaskError extends BadRequestError {
  readonly task: string;
  readonly supported: readonly string[];

  constructor(task: string, supported: readonly string[]) {
    super(`Unsupported task: '${task}'. Supported tasks: ${supported.join(", ")}`, "task");
    this.task = task;
    this.supported = supported;
  }
}

/** A model folder or configuration that cannot be served as it is. */
export class ModelConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ModelConfigError";
  }
}
