import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import type { DirectPath } from "../api/direct.js";

/** What @hono/node-server reads as the request's body when it is set (the body was read here). */
type WithRawBody = IncomingMessage & { rawBody?: Buffer };

/**
 * The server's request listener: the direct path's routes read their body here and are answered
 * directly when the direct path takes them; every other request, and those it leaves, go to the
 * app's listener (@hono/node-server's), with the body already read handed over as `rawBody`.
 */
export function directListener(direct: DirectPath, app: RequestListener): RequestListener {
  return (req: IncomingMessage, res: ServerResponse) => {
    const header = (name: string) => {
      const v = req.headers[name];
      return Array.isArray(v) ? v.join(", ") : v;
    };
    if (!direct.wants(req.method, req.url, header)) {
      app(req, res);
      return;
    }
    const start = performance.now();
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.once("error", () => res.destroy());
    req.once("end", () => {
      const raw = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      const gone = new AbortController();
      res.once("close", () => {
        if (!res.writableFinished) gone.abort();
      });
      void direct
        .answer({
          path: req.url!,
          header,
          body: raw.toString("utf8"),
          signal: gone.signal,
          start,
        })
        .then((answer) => {
          if (gone.signal.aborted) return;
          if (answer) {
            // Encoded once: the length is the buffer's, and the socket writes it as it is (a
            // string would be scanned for its length, then encoded again by the write).
            const body = Buffer.from(answer.body, "utf8");
            // A flat list of names and values, in order.
            const headers = answer.headers.flat();
            headers.push("Content-Length", String(body.length));
            res.writeHead(answer.status, headers);
            res.end(body);
          } else {
            (req as WithRawBody).rawBody = raw;
            app(req, res);
          }
        });
    });
  };
}
