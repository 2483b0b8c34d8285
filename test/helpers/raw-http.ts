import { connect } from "node:net";

export interface RawResult {
  /** The status line's code, or null when the connection ended without an answer. */
  status: number | null;
  text: string;
  error: string | null;
  /** Closed by our own `timeoutMs` guard rather than by the server. */
  timedOut: boolean;
}

/**
 * Send a request over a raw TCP socket, writing the body in `chunk`-byte pieces, and read
 * whatever the server answers until it closes the connection (or `timeoutMs`).
 */
export function rawRequest(
  url: string,
  head: string,
  body: Buffer | null,
  opts: { chunk?: number; timeoutMs?: number } = {},
): Promise<RawResult> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    let text = "";
    let error: string | null = null;
    let timedOut = false;
    const finish = () => {
      clearTimeout(timer);
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      resolve({ status: m ? Number(m[1]) : null, text, error, timedOut });
    };
    const timer = setTimeout(() => {
      timedOut = true;
      socket.destroy();
    }, opts.timeoutMs ?? 15_000);
    socket.on("data", (d) => {
      text += d.toString("latin1");
    });
    socket.on("error", (err) => {
      error = (err as NodeJS.ErrnoException).code ?? err.message;
    });
    socket.on("close", finish);
    socket.on("connect", async () => {
      socket.write(head);
      if (!body) return;
      const step = opts.chunk ?? 64 * 1024;
      for (let at = 0; at < body.length && !socket.destroyed; at += step) {
        const ok = socket.write(body.subarray(at, at + step));
        if (!ok) await new Promise<void>((r) => socket.once("drain", () => r()));
      }
    });
  });
}
