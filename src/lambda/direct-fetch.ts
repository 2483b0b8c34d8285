import type { App } from "../api/context.js";
import type { DirectPath } from "../api/direct.js";

/** What Hono's Lambda adapter calls on the app it is given. */
export type Fetch = Pick<App, "fetch">;

/** The path and query of a request URL (`https://host/v1/embeddings?x` → `/v1/embeddings?x`). */
function pathOf(url: string): string {
  const at = url.indexOf("/", url.indexOf("//") + 2);
  return at === -1 ? "/" : url.slice(at);
}

/**
 * The app's `fetch` with the server's direct path in front (`src/api/direct.ts`): an event's
 * request of the common shape to one of the busiest routes is answered by the route's own code
 * without the router and middleware chain (the same status, headers and body), every other
 * request by the app. A Lambda event carries its whole body, so its length is known before the
 * body is read. Without a direct path (authentication or metering), the app itself.
 */
export function directFetch(app: Fetch, direct: DirectPath | null): Fetch {
  if (!direct) return app;
  const fetch: App["fetch"] = async (req, env, ctx) => {
    const start = performance.now();
    const path = pathOf(req.url);
    const header = (name: string) => req.headers.get(name) ?? undefined;
    // The method, route and type first (a length of 0 passes), the length once the body is read.
    if (!direct.wants(req.method, path, header, 0)) return app.fetch(req, env, ctx);
    const bytes = new Uint8Array(await req.arrayBuffer());
    if (!direct.wants(req.method, path, header, bytes.byteLength))
      return app.fetch(rebuilt(req, bytes), env, ctx);
    const body = new TextDecoder().decode(bytes);
    const answer = await direct.answer({ path, header, body, signal: req.signal, start });
    if (!answer) return app.fetch(rebuilt(req, bytes), env, ctx);
    return new Response(answer.body, { status: answer.status, headers: answer.headers });
  };
  return { fetch };
}

/** The request again, with the body already read (its bytes as they came). */
function rebuilt(req: Request, body: Uint8Array): Request {
  return new Request(req.url, { method: req.method, headers: req.headers, body });
}
