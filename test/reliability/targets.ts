import type { FuzzRequest } from "./arbitraries.js";

export interface Answer {
  status: number;
  text: string;
}

/** Something requests can be sent to: the real server over HTTP, or a function handler. */
export interface Target {
  name: string;
  send(req: FuzzRequest): Promise<Answer>;
}

export function httpTarget(name: string, url: string): Target {
  return {
    name,
    async send(req) {
      const res = await fetch(`${url}${req.path}`, {
        method: "POST",
        headers: { "content-type": req.contentType },
        body: req.body,
      });
      return { status: res.status, text: await res.text() };
    },
  };
}

/** An API Gateway HTTP API (payload 2.0) event, as Lambda delivers it. */
export function httpApiEvent(req: FuzzRequest) {
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: req.path,
    rawQueryString: "",
    headers: { "content-type": req.contentType, host: "fn.example" },
    requestContext: {
      accountId: "123456789012",
      apiId: "api",
      domainName: "fn.example",
      domainPrefix: "fn",
      http: {
        method: "POST",
        path: req.path,
        protocol: "HTTP/1.1",
        sourceIp: "127.0.0.1",
        userAgent: "fuzz",
      },
      requestId: "r",
      routeKey: "$default",
      stage: "$default",
      time: "01/Dec/2026:00:00:00 +0000",
      timeEpoch: 0,
    },
    body: req.body,
    isBase64Encoded: false,
  };
}

type Handler = (event: ReturnType<typeof httpApiEvent>) => Promise<{
  statusCode?: number;
  body?: string;
  isBase64Encoded?: boolean;
}>;

export function functionTarget(name: string, handler: Handler): Target {
  return {
    name,
    async send(req) {
      const res = await handler(httpApiEvent(req));
      const text = res.isBase64Encoded
        ? Buffer.from(res.body ?? "", "base64").toString("utf8")
        : (res.body ?? "");
      return { status: res.statusCode ?? 200, text };
    },
  };
}
