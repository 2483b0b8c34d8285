import type { SequenceInput } from "./batch.js";

/** What the queue tracks of each request. */
export interface QueuedRequest {
  /**
   * Virtual start time, in padded tokens: set from the queue's clock on arrival, advanced by the
   * tokens of each micro-batch the request joins. The lowest one anchors the next micro-batch.
   */
  tag: number;
  /** Arrival order: breaks ties between equal tags. */
  readonly arrival: number;
  /** Micro-batches of this request handed to the backend and not yet finished. */
  inFlight: number;
  /** Sequences not yet in a micro-batch. */
  pending: number;
}

export interface QueueItem<R extends QueuedRequest> {
  seq: SequenceInput;
  /** Position in its request's inputs. */
  index: number;
  request: R;
}

export interface PackingLimits {
  /**
   * Most padded tokens (longest × count) in one micro-batch, a sequence longer than
   * `quadraticFrom` counting `longest / quadraticFrom` times: the attention's memory grows with
   * the square of the length.
   */
  maxBatchTokens: number;
  /** The length from which a sequence's tokens count more against the budget (see above). */
  quadraticFrom: number;
  /** Most sequences in one micro-batch. */
  maxBatchSize: number;
  /** Stop growing when real / computed tokens would fall below this (0: by budget alone). */
  minBatchEfficiency: number;
  /** Most tokens one request puts into one micro-batch (its first sequence always fits). */
  maxBatchTokensPerRequest: number;
  /** Most micro-batches of one request in flight at once. */
  maxInFlightPerRequest: number;
}

const len = <R extends QueuedRequest>(item: QueueItem<R>) => item.seq.ids.length;

/** Queue order: by length, then arrival, then input position. */
function before<R extends QueuedRequest>(a: QueueItem<R>, b: QueueItem<R>): boolean {
  const d = len(a) - len(b) || a.request.arrival - b.request.arrival || a.index - b.index;
  return d < 0;
}

/**
 * The sequences waiting for a micro-batch, kept sorted by length, and the fair choice of what
 * runs next. Each micro-batch is anchored on the waiting request with the lowest virtual start
 * time (start-time fair queuing over padded tokens), then grown with the nearest sequences by
 * length from every request, within the budget, the batch size and the efficiency floor. No request
 * puts more than its per-request share into one micro-batch, nor has more than its in-flight
 * limit running, so a request that arrives while a large one runs goes into the next micro-batch,
 * and many small requests still share one.
 */
export class FairQueue<R extends QueuedRequest> {
  private items: QueueItem<R>[] = [];
  private readonly waiting = new Set<R>();
  /** Virtual time: advanced by each finished micro-batch's padded tokens over the active requests. */
  private clock = 0;

  get size(): number {
    return this.items.length;
  }

  /** Queue a request's sequences; it starts at the current virtual time. */
  add(request: R, seqs: readonly SequenceInput[]): void {
    request.tag = this.clock;
    request.pending = seqs.length;
    this.waiting.add(request);
    const items = this.items;
    if (seqs.length === 1) {
      // The common case (one input per request): insert in place.
      const item = { seq: seqs[0]!, index: 0, request };
      let lo = 0;
      let hi = items.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (before(items[mid]!, item)) lo = mid + 1;
        else hi = mid;
      }
      items.splice(lo, 0, item);
      return;
    }
    const added = seqs.map((seq, index) => ({ seq, index, request }));
    added.sort((a, b) => len(a) - len(b) || a.index - b.index);
    const merged: QueueItem<R>[] = new Array(items.length + added.length);
    let i = 0;
    let j = 0;
    let k = 0;
    while (i < items.length && j < added.length)
      merged[k++] = before(added[j]!, items[i]!) ? added[j++]! : items[i++]!;
    while (i < items.length) merged[k++] = items[i++]!;
    while (j < added.length) merged[k++] = added[j++]!;
    this.items = merged;
  }

  /** Drop a request's waiting sequences (cancelled or failed). */
  remove(request: R): void {
    if (!this.waiting.delete(request)) return;
    this.items = this.items.filter((item) => item.request !== request);
    request.pending = 0;
  }

  /** A micro-batch finished: advance the virtual time by its share per active request. */
  finished(paddedTokens: number, activeRequests: number): void {
    this.clock += paddedTokens / Math.max(1, activeRequests);
  }

  /** The next micro-batch, or null when no waiting request may run now. */
  take(limits: PackingLimits): QueueItem<R>[] | null {
    const eligible = (r: R) => r.inFlight < limits.maxInFlightPerRequest;
    let anchor: R | null = null;
    for (const r of this.waiting) {
      if (!eligible(r)) continue;
      if (!anchor || r.tag < anchor.tag || (r.tag === anchor.tag && r.arrival < anchor.arrival))
        anchor = r;
    }
    if (!anchor) return null;
    const items = this.items;
    const first = items.findIndex((item) => item.request === anchor);
    const share = new Map<R, number>([[anchor, len(items[first]!)]]);
    const fits = (i: number) => {
      const item = items[i]!;
      if (!eligible(item.request)) return false;
      const used = share.get(item.request);
      return used === undefined || used + len(item) <= limits.maxBatchTokensPerRequest;
    };
    // A sequence passed over (its request is not eligible or has used its share) stays passed
    // over for this batch, so each side is scanned once.
    let left = first - 1;
    let right = first + 1;
    const scanLeft = () => {
      while (left >= 0 && !fits(left)) left--;
    };
    const scanRight = () => {
      while (right < items.length && !fits(right)) right++;
    };
    const chosen = [first];
    let longest = len(items[first]!);
    let real = longest;
    const { maxBatchTokens, maxBatchSize, minBatchEfficiency, quadraticFrom } = limits;
    const cost = (longest: number, count: number) =>
      longest * count * Math.max(1, longest / quadraticFrom);
    // Grow towards whichever neighbour adds less padding, within the budget, while the batch
    // stays efficient (real tokens / computed tokens).
    while (chosen.length < maxBatchSize) {
      scanLeft();
      scanRight();
      const count = chosen.length + 1;
      const leftLen = left >= 0 ? len(items[left]!) : -1;
      const rightLen = right < items.length ? len(items[right]!) : -1;
      const leftFits =
        leftLen >= 0 &&
        cost(longest, count) <= maxBatchTokens &&
        real + leftLen >= minBatchEfficiency * longest * count;
      const rightFits =
        rightLen >= 0 &&
        cost(rightLen, count) <= maxBatchTokens &&
        real + rightLen >= minBatchEfficiency * rightLen * count;
      if (!leftFits && !rightFits) break;
      const leftWaste = longest - leftLen;
      const rightWaste = (rightLen - longest) * (count - 1);
      const takeLeft = leftFits && (!rightFits || leftWaste <= rightWaste);
      const at = takeLeft ? left-- : right++;
      const item = items[at]!;
      chosen.push(at);
      share.set(item.request, (share.get(item.request) ?? 0) + len(item));
      real += len(item);
      if (!takeLeft) longest = len(item);
    }
    chosen.sort((a, b) => a - b);
    const batch = chosen.map((i) => items[i]!);
    // Close the gaps in place.
    let write = chosen[0]!;
    for (let c = 0; c < chosen.length; c++) {
      const end = c + 1 < chosen.length ? chosen[c + 1]! : items.length;
      for (let read = chosen[c]! + 1; read < end; read++) items[write++] = items[read]!;
    }
    items.length = write;
    const perRequest = new Map<R, number>();
    for (const item of batch) perRequest.set(item.request, (perRequest.get(item.request) ?? 0) + 1);
    for (const [r, count] of perRequest) {
      r.pending -= count;
      r.inFlight++;
      r.tag += count * longest;
      if (r.pending === 0) this.waiting.delete(r);
    }
    return batch;
  }
}
