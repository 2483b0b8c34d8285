import { PerformanceObserver } from "node:perf_hooks";
import { getHeapSpaceStatistics, setFlagsFromString } from "node:v8";

/** A young-generation size given to node itself (its arguments or NODE_OPTIONS) is kept. */
const GIVEN = /^--(max-semi-space-size|min-semi-space-size|semi-space-growth-factor)\b/;

/** The semi-space the server holds V8's young generation at (MiB; it starts at 1). */
export const YOUNG_SEMI_SPACE_MIB = 4;

const MIB = 1024 * 1024;

/** The young generation's semi-space now (MiB): what it holds and what is left of it. */
function semiSpaceMiB(): number {
  const space = getHeapSpaceStatistics().find((s) => s.space_name === "new_space");
  return space ? (space.space_used_size + space.space_available_size) / MIB : 0;
}

/**
 * Hold V8's young generation near `mib` MiB of semi-space in the server. V8 starts it at 1 MiB
 * and, under concurrent requests, doubles it up to 32 MiB (64 MiB of new space), whose pages stay
 * resident: a server at c=64 on the mixed workload peaked ~60 MiB higher. Kept at 1 MiB, it is
 * scavenged every ~10 requests at c=64, and what the requests in flight hold is copied and
 * promoted each time: at 4 MiB the event loop's CPU per request at c=64 fell ~20 % for the same
 * peak RSS (docs/performance.md). Node takes the young generation's bounds only on its command
 * line (Lambda's Node takes no such flag), but V8 reads its growth factor at each resize: after
 * each minor collection it is set to 2 while the semi-space is under `mib`, else to 1 (no
 * growth). It ends between `mib` and twice it (a collection may come before the observer has
 * run); were the event loop held through several collections, it could grow on to V8's own
 * limit. V8 still shrinks it when allocation stays low; the next load grows it again. Flags given
 * to node itself win.
 */
export function holdYoungGeneration(
  mib = YOUNG_SEMI_SPACE_MIB,
  execArgv: readonly string[] = process.execArgv,
  nodeOptions = process.env.NODE_OPTIONS ?? "",
): boolean {
  const given = [...execArgv, ...nodeOptions.split(/\s+/)];
  if (given.some((a) => GIVEN.test(a))) return false;
  let factor = 0;
  const steer = () => {
    const now = semiSpaceMiB();
    const next = now >= mib || now <= 0 ? 1 : 2;
    if (next === factor) return;
    factor = next;
    setFlagsFromString(`--semi-space-growth-factor=${next}`);
  };
  steer();
  new PerformanceObserver(steer).observe({ entryTypes: ["gc"] });
  return true;
}
