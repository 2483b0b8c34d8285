import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { request as httpRequest, type RequestOptions } from "node:http";
import { request as httpsRequest } from "node:https";
import type { LookupFunction } from "node:net";
import { isNonPublicAddress } from "./callback-url.js";

/** What a delivery attempt got back: an HTTP status, or no answer at all (status null). */
export interface DeliveryResult {
  status: number | null;
  /** The start of the response body, or the network error. */
  excerpt: string;
}

const EXCERPT_BYTES = 1024;

/** Resolve as usual, then refuse non-public addresses: the check holds for the connected address. */
function publicOnly(): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, "", 0);
      const list = addresses as unknown as LookupAddress[];
      const bad = list.find((a) => isNonPublicAddress(a.address));
      if (bad) {
        const e = Object.assign(
          new Error(`callback host ${hostname} resolves to non-public address ${bad.address}`),
          { code: "ECALLBACKADDRESS" },
        );
        return callback(e, "", 0);
      }
      if (options.all) return callback(null, list as unknown as string, 0);
      return callback(null, list[0]!.address, list[0]!.family);
    });
  };
}

/** POST `body` to `url` with `headers`; never throws. */
export function postCallback(
  url: string,
  body: string,
  headers: Record<string, string>,
  options: { timeoutMs: number; allowPrivate: boolean },
): Promise<DeliveryResult> {
  return new Promise((resolve) => {
    const target = new URL(url);
    const send = target.protocol === "https:" ? httpsRequest : httpRequest;
    const init: RequestOptions = {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "content-length": Buffer.byteLength(body),
        "user-agent": "edgepool-webhooks",
        ...headers,
      },
      timeout: options.timeoutMs,
      ...(options.allowPrivate ? {} : { lookup: publicOnly() }),
    };
    const req = send(target, init, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (chunk: Buffer) => {
        if (size < EXCERPT_BYTES) chunks.push(chunk);
        size += chunk.length;
      });
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? null,
          excerpt: Buffer.concat(chunks).toString("utf8").slice(0, EXCERPT_BYTES),
        }),
      );
      res.on("error", (err) => resolve({ status: res.statusCode ?? null, excerpt: err.message }));
    });
    req.on("timeout", () => req.destroy(new Error(`no answer within ${options.timeoutMs} ms`)));
    req.on("error", (err) => resolve({ status: null, excerpt: err.message }));
    req.end(body);
  });
}
