import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Context,
  LambdaFunctionURLEvent,
} from "aws-lambda";

export interface EventInit {
  body?: unknown;
  headers?: Record<string, string>;
  /** Send the body base64-encoded, as API Gateway and Function URLs do for non-text bodies. */
  base64?: boolean;
}

function bodyOf(init: EventInit): { body?: string; isBase64Encoded: boolean; length: number } {
  if (init.body === undefined) return { isBase64Encoded: false, length: 0 };
  const text = typeof init.body === "string" ? init.body : JSON.stringify(init.body);
  const length = Buffer.byteLength(text);
  return init.base64
    ? { body: Buffer.from(text).toString("base64"), isBase64Encoded: true, length }
    : { body: text, isBase64Encoded: false, length };
}

function headersOf(host: string, init: EventInit, length: number): Record<string, string> {
  return {
    accept: "*/*",
    ...(init.body !== undefined
      ? { "content-type": "application/json", "content-length": String(length) }
      : {}),
    host,
    "user-agent": "curl/8.5.0",
    "x-amzn-trace-id": "Root=1-674bf1a0-6b7f0b4a2c1d3e5f60718293",
    "x-forwarded-for": "203.0.113.7",
    "x-forwarded-port": "443",
    "x-forwarded-proto": "https",
    ...init.headers,
  };
}

const time = (d: Date) =>
  d.toUTCString().replace(/^\w+, (\d+) (\w+) (\d+) ([\d:]+) GMT$/, "$1/$2/$3:$4 +0000");

/** An API Gateway HTTP API (payload format 2.0) event, as Lambda receives it. */
export function httpApiEvent(method: string, path: string, init: EventInit = {}) {
  const apiId = "k3x9q2w7ze";
  const host = `${apiId}.execute-api.us-east-1.amazonaws.com`;
  const { body, isBase64Encoded, length } = bodyOf(init);
  const now = new Date();
  const event: APIGatewayProxyEventV2 = {
    version: "2.0",
    routeKey: `${method} ${path}`,
    rawPath: path,
    rawQueryString: "",
    headers: headersOf(host, init, length),
    requestContext: {
      accountId: "123456789012",
      apiId,
      domainName: host,
      domainPrefix: apiId,
      http: {
        method,
        path,
        protocol: "HTTP/1.1",
        sourceIp: "203.0.113.7",
        userAgent: "curl/8.5.0",
      },
      requestId: "Cn2XwhG8IAMEVbA=",
      routeKey: `${method} ${path}`,
      stage: "$default",
      time: time(now),
      timeEpoch: now.getTime(),
    },
    isBase64Encoded,
    ...(body !== undefined ? { body } : {}),
  };
  return event;
}

/** A Lambda Function URL event (AuthType NONE), as Lambda receives it. */
export function functionUrlEvent(method: string, path: string, init: EventInit = {}) {
  const urlId = "a4tq6x2vbbfz3kqhlm5yq7rvxe0ncdyo";
  const host = `${urlId}.lambda-url.us-east-1.on.aws`;
  const { body, isBase64Encoded, length } = bodyOf(init);
  const now = new Date();
  const event: LambdaFunctionURLEvent = {
    version: "2.0",
    routeKey: "$default",
    rawPath: path,
    rawQueryString: "",
    headers: headersOf(host, init, length),
    requestContext: {
      accountId: "anonymous",
      apiId: urlId,
      domainName: host,
      domainPrefix: urlId,
      http: {
        method,
        path,
        protocol: "HTTP/1.1",
        sourceIp: "203.0.113.7",
        userAgent: "curl/8.5.0",
      },
      requestId: "1f6e2c9a-5d0b-4d7e-9a51-3c2b8e7f4a10",
      routeKey: "$default",
      stage: "$default",
      time: time(now),
      timeEpoch: now.getTime(),
    },
    isBase64Encoded,
    ...(body !== undefined ? { body } : {}),
  };
  return event;
}

export function lambdaContext(name: string): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: name,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${name}`,
    memoryLimitInMB: "2048",
    awsRequestId: "8f5b2a61-3c4d-4e9f-a0b1-c2d3e4f5a6b7",
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: "2026/12/01/[$LATEST]0123456789abcdef0123456789abcdef",
    getRemainingTimeInMillis: () => 29_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

export type LambdaResult = APIGatewayProxyStructuredResultV2 & {
  statusCode: number;
  body: string;
  headers: Record<string, string>;
};

/** The response body as JSON, with the per-request fields (`id`, `created`) blanked. */
export function stableJson(text: string): unknown {
  return JSON.parse(text, (key, value) =>
    key === "id" && typeof value === "string" ? "<id>" : key === "created" ? 0 : value,
  );
}
