import { sha256Hex } from "../metering/digest.js";
import type { EdgeCache } from "./bindings.js";

/** Embedding routes whose responses depend only on the model and the body. */
export const CACHEABLE_ROUTES: ReadonlySet<string> = new Set([
  "/v1/embeddings",
  "/embed",
  "/embed_all",
  "/embed_sparse",
]);

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

/** The Cache API key of an embedding request: sha256 of route, model and normalized body. */
export async function cacheKey(route: string, model: string, body: unknown): Promise<Request> {
  const hash = await sha256Hex(`${route}\n${model}\n${canonicalJson(body)}`);
  return new Request(`https://edgepool-cache.invalid/v1/${hash}`);
}

/** Store a copy of a successful response for `ttlSeconds`. */
export async function storeResponse(
  cache: EdgeCache,
  key: Request,
  response: Response,
  ttlSeconds: number,
): Promise<void> {
  const copy = new Response(response.body, response);
  copy.headers.set("cache-control", `public, max-age=${ttlSeconds}`);
  copy.headers.delete("x-request-id");
  await cache.put(key, copy);
}
