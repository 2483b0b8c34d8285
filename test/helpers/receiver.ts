import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";

export interface Delivery {
  path: string;
  headers: Record<string, string>;
  body: string;
  /** What `standardwebhooks` made of the signature: the parsed payload, or the error. */
  verified: unknown;
  error: string | null;
  /** The status answered (null while held or when the connection was dropped). */
  answered: number | null;
}

/**
 * A webhook receiver on 127.0.0.1 that verifies every delivery with the `standardwebhooks`
 * package, as a customer's would. `reply` decides each answer; returning null holds the request.
 */
export async function startReceiver(
  secret: string,
  reply: (d: Delivery, n: number) => number | null = () => 204,
) {
  const deliveries: Delivery[] = [];
  const held: ServerResponse[] = [];
  const wh = new Webhook(secret);
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const headers = Object.fromEntries(
        Object.entries(req.headers).map(([k, v]) => [k, String(v)]),
      );
      const d: Delivery = {
        path: req.url ?? "",
        headers,
        body,
        verified: null,
        error: null,
        answered: null,
      };
      try {
        d.verified = wh.verify(body, headers);
      } catch (err) {
        d.error = (err as Error).message;
      }
      deliveries.push(d);
      const status = d.error ? 401 : reply(d, deliveries.length);
      if (status === null) {
        held.push(res);
        return;
      }
      d.answered = status;
      res.writeHead(status, { "content-type": "text/plain" }).end(status >= 300 ? "nope" : "ok");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    deliveries,
    /** Drop held requests' connections. */
    dropHeld() {
      for (const res of held.splice(0)) res.socket?.destroy();
    },
    async close() {
      this.dropHeld();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

/** Poll until `check` returns a value (not undefined), or fail after `ms`. */
export async function until<T>(check: () => Promise<T | undefined> | T | undefined, ms = 20_000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 50));
  }
}

let signedCount = 0;

/** A request body signed as a Standard Webhooks sender would: its text and the three headers. */
export function signedRequest(
  secret: string,
  body: unknown,
  at = new Date(),
  id = `msg_${Date.now()}_${++signedCount}`,
) {
  const text = JSON.stringify(body);
  return {
    text,
    headers: {
      "webhook-id": id,
      "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
      "webhook-signature": new Webhook(secret).sign(id, at, text),
    },
  };
}
