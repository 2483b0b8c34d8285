import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";

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
  headers: Record<string, string> = {},
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
            ...headers,
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

/** wrk (Debian's `wrk`) when installed: a C load generator that leaves the cores to the server. */
export function hasWrk(): boolean {
  try {
    execFileSync("wrk", ["--version"], { stdio: "ignore" });
    return true;
  } catch (err) {
    // wrk --version exits 1 after printing its version
    return (err as { status?: number }).status === 1;
  }
}

const WRK_SCRIPT = `
local bodies = {}
for line in io.lines(os.getenv("EDGEPOOL_BENCH_BODIES")) do bodies[#bodies + 1] = line end
local i = 0
request = function()
  i = i % #bodies + 1
  return wrk.format("POST", nil, { ["Content-Type"] = "application/json" }, bodies[i])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('RESULT {"requests":%d,"us":%d,"errors":%d,"non2xx":%d,"p50":%f,"p90":%f,"p99":%f}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000))
end
`;

/** A fixed-duration closed-loop run with wrk, cycling through `bodies`. */
export function runWrk(
  url: string,
  bodies: readonly string[],
  concurrency: number,
  seconds: number,
): LoadResult {
  const dir = mkdtempSync(join(tmpdir(), "edgepool-wrk-"));
  try {
    writeFileSync(join(dir, "bodies.txt"), `${bodies.join("\n")}\n`);
    writeFileSync(join(dir, "script.lua"), WRK_SCRIPT);
    const out = execFileSync(
      "wrk",
      [
        "-t1",
        `-c${concurrency}`,
        `-d${seconds}s`,
        "--timeout",
        "30s",
        "-s",
        join(dir, "script.lua"),
        url,
      ],
      { env: { ...process.env, EDGEPOOL_BENCH_BODIES: join(dir, "bodies.txt") }, encoding: "utf8" },
    );
    const line = out.split("\n").find((l) => l.startsWith("RESULT "));
    if (!line) throw new Error(`wrk printed no result:\n${out}`);
    const r = JSON.parse(line.slice(7)) as {
      requests: number;
      us: number;
      errors: number;
      non2xx: number;
      p50: number;
      p90: number;
      p99: number;
    };
    const secs = r.us / 1e6;
    const errors = r.errors + r.non2xx;
    return {
      requests: r.requests,
      seconds: secs,
      // Answered requests only: a 429 or a failed connection is not throughput.
      throughput: (r.requests - errors) / secs,
      p50: r.p50,
      p90: r.p90,
      p99: r.p99,
      errors,
      latencies: [],
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
