import { setFlagsFromString } from "node:v8";

/** A young-generation size given to node itself (its arguments or NODE_OPTIONS) is kept. */
const GIVEN = /^--(max-semi-space-size|min-semi-space-size|semi-space-growth-factor)\b/;

/**
 * Keep V8's young generation at its starting size in the server. Under concurrent requests V8
 * grows it (up to 64 MiB of new space here), and the pages it touched stay resident: a server at
 * c=64 on the mixed workload peaked ~60 MiB higher for the same work. Scavenges of a small young
 * generation cost little here: what survives one is the requests in flight (docs/performance.md
 * has the measurements). Flags given to node itself win.
 */
export function boundYoungGeneration(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions = process.env.NODE_OPTIONS ?? "",
): boolean {
  const given = [...execArgv, ...nodeOptions.split(/\s+/)];
  if (given.some((a) => GIVEN.test(a))) return false;
  setFlagsFromString("--semi-space-growth-factor=1");
  return true;
}
