import { BadRequestError } from "./errors.js";

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

export function cosineSimilarity(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const na = Math.sqrt(dot(a, a));
  const nb = Math.sqrt(dot(b, b));
  return dot(a, b) / Math.max(na * nb, 1e-12);
}

/** Late interaction: Σ over query tokens of the max over document tokens of the dot product. */
export function maxSim(query: ArrayLike<number>[], doc: ArrayLike<number>[]): number {
  let total = 0;
  for (const q of query) {
    let best = Number.NEGATIVE_INFINITY;
    for (const d of doc) best = Math.max(best, dot(q, d));
    total += best;
  }
  return total;
}

/** Pair two score inputs as 1:1, 1:N or N:N; returns index pairs into `left` and `right`. */
export function pairIndices(leftCount: number, rightCount: number): Array<[number, number]> {
  if (leftCount === 0 || rightCount === 0) {
    throw new BadRequestError("At least one text element must be given");
  }
  if (leftCount === 1) return Array.from({ length: rightCount }, (_, j) => [0, j]);
  if (leftCount === rightCount) return Array.from({ length: leftCount }, (_, i) => [i, i]);
  throw new BadRequestError("Input lengths must be either 1:1, 1:N or N:N");
}

/** Index of the largest value (first one on ties). */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}
