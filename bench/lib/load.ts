import http from "node:http";

export interface LoadResult {
  requests: number;
  seconds: number;
  throughput: number;
  p50: number;
  p90: number;
  p99: number;
  errors: number;
  latencies: number[];
}

/**
 * A closed-loop load generator: `concurrency` clients over keep-alive connections, each sending
 * the next body as soon as its previous answer arrived; records every request's latency (ms).
 */
export async function runLoad(
  url: string,
  bodies: readonly string[],
  concurrency: number,
): Promise<LoadResult> {
  const target = new URL(url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const latencies: number[] = [];
  let errors = 0;
  let next = 0;
  const send = (body: string) =>
    new Promise<number>((resolve, reject) => {
      const req = http.request(
        {
          agent,
          host: target.hostname,
          port: target.port,
          path: target.pathname,
          method: "POST",
          headers: {
            "content-type": "application/json",
            "content-length": Buffer.byteLength(body),
          },
        },
        (res) => {
          res.resume();
          res.on("end", () => resolve(res.statusCode ?? 0));
        },
      );
      req.on("error", reject);
      req.end(body);
    });
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < bodies.length) {
        const body = bodies[next++]!;
        const t = performance.now();
        const status = await send(body).catch(() => 0);
        latencies.push(performance.now() - t);
        if (status !== 200) errors++;
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  agent.destroy();
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (p: number) =>
    sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
  return {
    requests: bodies.length,
    seconds,
    throughput: bodies.length / seconds,
    p50: at(50),
    p90: at(90),
    p99: at(99),
    errors,
    latencies: [],
  };
}
