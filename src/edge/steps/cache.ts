import type { EdgeCache } from "../bindings.js";
import { CACHEABLE_ROUTES, cacheKey, replay, storeResponse } from "../cache.js";
import { CACHE_HEADER, replaceResponse, type Step, withHeaders } from "./context.js";

/**
 * The Cache API for identical embedding requests of one tenant: a hit is answered here (with its
 * own ids), a miss goes on and a 200 is stored after the response (waitUntil).
 */
export function cache(store: () => EdgeCache): Step {
  return async (c, next) => {
    const { json, key, model, requestId, config } = c.var;
    const route = new URL(c.req.url).pathname;
    if (c.req.method !== "POST" || !CACHEABLE_ROUTES.has(route) || json === undefined) {
      return next();
    }
    const cache = store();
    const ckey = await cacheKey(key.id, route, model ?? "", json);
    const hit = await cache.match(ckey);
    if (hit) {
      replaceResponse(
        c,
        withHeaders(await replay(hit, requestId), {
          [CACHE_HEADER]: "hit",
          "x-request-id": requestId,
        }),
      );
      return;
    }
    await next();
    const res = c.res;
    if (res.status !== 200) {
      replaceResponse(c, withHeaders(res, { [CACHE_HEADER]: "miss" }));
      return;
    }
    const text = await res.text();
    c.executionCtx.waitUntil(
      storeResponse(cache, ckey, text, res, requestId, config.cacheTtlSeconds).catch((err: Error) =>
        console.error(`cache put failed: ${err.message}`),
      ),
    );
    replaceResponse(c, withHeaders(new Response(text, res), { [CACHE_HEADER]: "miss" }));
  };
}
