import type { APIGatewayProxyResult } from "hono/aws-lambda";
import { errorBody } from "../api/errors.js";

/**
 * Lambda refuses a buffered response over its limit with an opaque 502. Answer a clear 413 naming
 * the limit instead, measured on the payload the runtime would send.
 */
export function limitResponse(result: APIGatewayProxyResult, limit: number): APIGatewayProxyResult {
  const size = Buffer.byteLength(JSON.stringify(result));
  if (size <= limit) return result;
  const id = result.headers?.["x-request-id"] ?? result.multiValueHeaders?.["x-request-id"]?.[0];
  const body = errorBody(
    `The response would be ${size} bytes, over AWS Lambda's ${limit}-byte (${(limit / 1048576).toFixed(0)} MB) limit for buffered responses. Send fewer inputs, ask for encoding_format "base64" or fewer dimensions, or deploy this function with response streaming (a Function URL with InvokeMode RESPONSE_STREAM and the streamHandler export).`,
    "BadRequestError",
    413,
  );
  return {
    statusCode: 413,
    headers: {
      "content-type": "application/json",
      ...(typeof id === "string" ? { "x-request-id": id } : {}),
    },
    body: JSON.stringify(body),
    isBase64Encoded: false,
  };
}
