export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx]!;
}

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** Run `fn` `times` times and keep the run with the median of `key`. */
export async function medianOf<T>(
  times: number,
  fn: () => Promise<T>,
  key: (t: T) => number,
): Promise<T & { runs: number[] }> {
  const runs: T[] = [];
  for (let i = 0; i < times; i++) runs.push(await fn());
  const sorted = [...runs].sort((a, b) => key(a) - key(b));
  return { ...sorted[Math.floor(sorted.length / 2)]!, runs: runs.map(key) };
}
