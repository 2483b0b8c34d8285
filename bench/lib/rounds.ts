// Interleaved rounds: each round measures the reference and edgepool one after the other, so that
// a loaded machine's drift hits both alike; a ratio is the median of the rounds' ratios.
import type { LoadResult } from "./load.js";
import { mainThreadCpuMs } from "./procs.js";
import { median } from "./stats.js";

export interface Server {
  url: string;
  proc: { pid?: number };
}

export type Measured = LoadResult & { cpuMsPerRequest: number };

/** One load run, with the server's event-loop (main-thread) CPU time per request. */
export async function measured(
  server: Server,
  run: (url: string) => Promise<LoadResult> | LoadResult,
): Promise<Measured> {
  const cpu0 = mainThreadCpuMs(server.proc.pid!);
  const r = await run(`${server.url}/v1/embeddings`);
  return { ...r, cpuMsPerRequest: (mainThreadCpuMs(server.proc.pid!) - cpu0) / r.requests };
}

/** Run each step once per round, in an order rotated every round; one record of results per round. */
export async function rounds<S extends Record<string, unknown>>(
  count: number,
  steps: { [K in keyof S]: () => Promise<S[K]> },
  onRound?: (round: number, results: S) => void,
): Promise<S[]> {
  const keys = Object.keys(steps) as Array<keyof S>;
  const out: S[] = [];
  for (let i = 0; i < count; i++) {
    const results = {} as S;
    for (let k = 0; k < keys.length; k++) {
      const key = keys[(i + k) % keys.length]!;
      results[key] = await steps[key]();
    }
    onRound?.(i, results);
    out.push(results);
  }
  return out;
}

/** The median over rounds of a figure computed from each round. */
export function perRound<R>(all: readonly R[], figure: (r: R) => number): number {
  return median(all.map(figure));
}
