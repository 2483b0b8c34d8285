import { sha256Hex } from "../metering/digest.js";
import type { EdgeCache } from "./bindings.js";

/** Embedding routes whose responses depend only on the model and the body. */
export const CACHEABLE_ROUTES: ReadonlySet<string> = new Set([
  "/v1/embeddings",
  "/embed",
  "/embed_all",
  "/embed_sparse",
]);

/** The stored copy's header naming the request id its body was answered under. */
const ANSWERED_AS = "x-edgepool-answered-as";

/** JSON with object keys sorted at every level: equal requests give equal text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/**
 * The Cache API key of an embedding request: sha256 of the tenant (API key id), route, model and
 * normalized body. Tenants never share an entry.
 */
export async function cacheKey(
  tenant: string,
  route: string,
  model: string,
  body: unknown,
): Promise<Request> {
  const hash = await sha256Hex(`${tenant}\n${route}\n${model}\n${canonicalJson(body)}`);
  return new Request(`https://edgepool-cache.invalid/v2/${hash}`);
}

/** Store a copy of a successful response (answered as `requestId`) for `ttlSeconds`. */
export async function storeResponse(
  cache: EdgeCache,
  key: Request,
  text: string,
  response: Response,
  requestId: string,
  ttlSeconds: number,
): Promise<void> {
  const copy = new Response(text, response);
  copy.headers.set("cache-control", `public, max-age=${ttlSeconds}`);
  copy.headers.delete("x-request-id");
  copy.headers.set(ANSWERED_AS, requestId);
  await cache.put(key, copy);
}

/**
 * A cached answer re-issued for a new request: the body's ids (`embd-<request id>`, Cohere's
 * `id`) carry the new request's id, not the first one's.
 */
export async function replay(hit: Response, requestId: string): Promise<Response> {
  const first = hit.headers.get(ANSWERED_AS);
  const text = await hit.text();
  const out = new Response(first ? text.split(first).join(requestId) : text, hit);
  out.headers.delete(ANSWERED_AS);
  out.headers.delete("cache-control");
  out.headers.delete("content-length");
  return out;
}
