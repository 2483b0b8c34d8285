import { describe, expect, it } from "vitest";
import { BadRequestError, TooManyRequestsError } from "../core/index.js";
import { toErrorResponse } from "./errors.js";

describe("error responses", () => {
  it("a bug becomes a 500 InternalServerError without details or a stack trace", () => {
    const { status, body } = toErrorResponse(
      new TypeError("cannot read x of undefined at /src/secret.ts:1"),
    );
    expect(status).toBe(500);
    expect(body).toEqual({
      error: {
        message: "Internal server error",
        type: "InternalServerError",
        param: null,
        code: 500,
      },
    });
  });

  it("documented errors keep their status, type and param", () => {
    expect(toErrorResponse(new BadRequestError("bad", "input"))).toEqual({
      status: 400,
      body: { error: { message: "bad", type: "BadRequestError", param: "input", code: 400 } },
    });
    expect(toErrorResponse(new TooManyRequestsError("busy")).status).toBe(429);
  });
});
