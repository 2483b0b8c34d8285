/** `npm run test:reliability` sets EDGEPOOL_RELIABILITY=full: the long form of every suite. */
export const FULL = process.env.EDGEPOOL_RELIABILITY === "full";

/** The short (npm test) or full size of a suite parameter. */
export function size<T>(short: T, full: T): T {
  return FULL ? full : short;
}

/** Print a measured figure (collected into docs/reliability.md from the full run). */
export function report(suite: string, figures: Record<string, unknown>): void {
  console.log(`RELIABILITY ${JSON.stringify({ suite, full: FULL, ...figures })}`);
}

/** Resident memory of a process in bytes (Linux), or null. */
export async function rssOf(pid: number): Promise<number | null> {
  const { readFile } = await import("node:fs/promises");
  try {
    const status = await readFile(`/proc/${pid}/status`, "utf8");
    const kb = /VmRSS:\s+(\d+)/.exec(status)?.[1];
    return kb ? Number(kb) * 1024 : null;
  } catch {
    return null;
  }
}
