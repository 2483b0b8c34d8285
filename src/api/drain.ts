/** The parts of Node's IncomingMessage a drain needs (the app stays free of Node imports). */
interface NodeIncoming {
  complete: boolean;
  destroyed: boolean;
  on(event: "data", fn: (chunk: { length: number }) => void): unknown;
  on(event: "pause", fn: () => void): unknown;
  once(event: "end" | "close" | "error", fn: () => void): unknown;
  off(event: "data", fn: (chunk: { length: number }) => void): unknown;
  off(event: "pause", fn: () => void): unknown;
  resume(): unknown;
}

/** How much of a refused body is read and discarded: 4× the payload limit, at least 16 MiB. */
export function drainLimit(payloadLimit: number): number {
  return Math.max(4 * payloadLimit, 16 * 1024 * 1024);
}

/** How long a refused body is read and discarded at most. */
export const DRAIN_TIMEOUT_MS = 10_000;

/**
 * Read and discard up to `maxBytes` of a request body that will not be used, before answering:
 * a server that answers and closes while the client is still sending resets the connection, and
 * the client loses the answer (a 413 under `Connection: close`). On runtimes that buffer the
 * body (serverless functions, Workers) there is nothing to drain.
 */
export async function drainBody(env: unknown, maxBytes: number): Promise<void> {
  const incoming = (env as { incoming?: NodeIncoming } | undefined)?.incoming;
  if (!incoming || incoming.complete || incoming.destroyed) return;
  await new Promise<void>((resolve) => {
    let seen = 0;
    const done = () => {
      clearTimeout(timer);
      incoming.off("data", onData);
      incoming.off("pause", keepFlowing);
      resolve();
    };
    const onData = (chunk: { length: number }) => {
      seen += chunk.length;
      if (seen > maxBytes) done();
    };
    // A reader that stopped half-way (a body-limit check) pauses the stream: keep it flowing.
    const keepFlowing = () => void incoming.resume();
    const timer = setTimeout(done, DRAIN_TIMEOUT_MS);
    incoming.on("pause", keepFlowing);
    incoming.on("data", onData);
    incoming.once("end", done);
    incoming.once("close", done);
    incoming.once("error", done);
    incoming.resume();
  });
}
