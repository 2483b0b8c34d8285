import { CancelledError, type SequenceOutput, TooManyRequestsError } from "../core/index.js";
import type { Backend } from "./backend.js";
import { padBatch, type SequenceInput } from "./batch.js";

export interface SchedulerOptions {
  /** Most padded tokens (longest × count) in one micro-batch. */
  maxBatchTokens: number;
  /** Most sequences in one micro-batch. */
  maxBatchSize: number;
  /** Most requests queued or running; more get 429. */
  maxConcurrentRequests: number;
  /**
   * Stop growing a micro-batch when real/computed tokens would fall below this: the sequences
   * left out wait for the next batch rather than pay for padding. 0 packs by budget alone.
   */
  minBatchEfficiency?: number;
  padId: number;
  paddingSide: "left" | "right";
  /** Graph output to read. */
  output: string;
  /**
   * Keep only these columns of a `[batch, seq, n]` output at each sequence's last real token
   * (LLM rerankers: the `no`/`yes` logits), gathered before the output leaves the session.
   */
  lastTokenColumns?: readonly number[];
}

/** What one request waited and computed, in milliseconds. */
export interface RequestTimings {
  queueMs: number;
  inferenceMs: number;
}

export interface ScheduledResult {
  outputs: SequenceOutput[];
  timings: RequestTimings;
}

/** Cumulative counters, read by `/metrics` and the benchmark. */
export interface SchedulerStats {
  batches: number;
  sequences: number;
  realTokens: number;
  paddedTokens: number;
  rejected: number;
  cancelled: number;
}

interface RequestState {
  outputs: SequenceOutput[];
  remaining: number;
  submitted: number;
  firstDispatch: number | null;
  signal: AbortSignal | undefined;
  failed: boolean;
  resolve: (r: ScheduledResult) => void;
  reject: (e: Error) => void;
}

const defer: (fn: () => void) => void =
  typeof setImmediate === "function" ? (fn) => setImmediate(fn) : (fn) => setTimeout(fn, 0);

interface Item {
  seq: SequenceInput;
  index: number;
  request: RequestState;
  order: number;
}

/**
 * Cross-request dynamic batching: sequences from every request wait in one queue and are packed
 * into micro-batches by a padded-token budget after sorting by length. A batch is formed as soon
 * as a backend slot is free, so a lone request runs at once and batches grow under load.
 */
export class Scheduler {
  readonly stats: SchedulerStats = {
    batches: 0,
    sequences: 0,
    realTokens: 0,
    paddedTokens: 0,
    rejected: 0,
    cancelled: 0,
  };
  private readonly backend: Backend;
  private readonly opts: SchedulerOptions;
  private queue: Item[] = [];
  private inflight = 0;
  private active = 0;
  private order = 0;
  private pumping = false;

  constructor(backend: Backend, opts: SchedulerOptions) {
    this.backend = backend;
    this.opts = opts;
  }

  /** The limits this scheduler runs with (reported by TEI's `/info`). */
  get options(): Readonly<SchedulerOptions> {
    return this.opts;
  }

  /** Requests queued or running. */
  get activeRequests(): number {
    return this.active;
  }

  get queuedSequences(): number {
    return this.queue.length;
  }

  /** Queue the sequences of one request; resolves with their outputs in the given order. */
  submit(seqs: readonly SequenceInput[], signal?: AbortSignal): Promise<ScheduledResult> {
    if (signal?.aborted) return Promise.reject(new CancelledError());
    if (this.active >= this.opts.maxConcurrentRequests) {
      this.stats.rejected++;
      return Promise.reject(
        new TooManyRequestsError(
          `Too many requests: ${this.active} are queued or running (limit ${this.opts.maxConcurrentRequests}). Retry later.`,
        ),
      );
    }
    if (seqs.length === 0) {
      return Promise.resolve({ outputs: [], timings: { queueMs: 0, inferenceMs: 0 } });
    }
    this.active++;
    return new Promise<ScheduledResult>((resolve, reject) => {
      const request: RequestState = {
        outputs: new Array(seqs.length),
        remaining: seqs.length,
        submitted: performance.now(),
        firstDispatch: null,
        signal,
        failed: false,
        resolve,
        reject,
      };
      seqs.forEach((seq, index) => {
        this.queue.push({ seq, index, request, order: this.order++ });
      });
      signal?.addEventListener("abort", () => this.pump(), { once: true });
      this.pump();
    });
  }

  private finish(request: RequestState, error?: Error): void {
    if (request.failed) return;
    if (error) {
      request.failed = true;
      this.active--;
      request.reject(error);
      return;
    }
    if (request.remaining > 0) return;
    this.active--;
    const now = performance.now();
    const first = request.firstDispatch ?? now;
    request.resolve({
      outputs: request.outputs,
      timings: { queueMs: first - request.submitted, inferenceMs: now - first },
    });
  }

  /** Drop what belongs to cancelled or failed requests before it costs compute. */
  private dropCancelled(): void {
    const keep: Item[] = [];
    for (const item of this.queue) {
      const r = item.request;
      if (r.failed) continue;
      if (r.signal?.aborted) {
        this.stats.cancelled++;
        this.finish(r, new CancelledError());
        continue;
      }
      keep.push(item);
    }
    this.queue = keep;
  }

  /**
   * The next micro-batch: the oldest waiting sequence plus its nearest neighbours by length,
   * grown while the padded-token budget and the batch size allow.
   */
  private takeBatch(): Item[] {
    const sorted = [...this.queue].sort(
      (a, b) => a.seq.ids.length - b.seq.ids.length || a.order - b.order,
    );
    let oldest = 0;
    for (let i = 1; i < sorted.length; i++)
      if (sorted[i]!.order < sorted[oldest]!.order) oldest = i;
    let lo = oldest;
    let hi = oldest;
    let longest = sorted[oldest]!.seq.ids.length;
    const { maxBatchTokens, maxBatchSize } = this.opts;
    // Grow towards whichever neighbour adds less padding, within the budget, while the batch
    // stays efficient (real tokens / computed tokens).
    const minEfficiency = this.opts.minBatchEfficiency ?? 0;
    let real = longest;
    while (hi - lo + 1 < maxBatchSize) {
      const count = hi - lo + 2;
      const leftLen = lo > 0 ? sorted[lo - 1]!.seq.ids.length : -1;
      const rightLen = hi + 1 < sorted.length ? sorted[hi + 1]!.seq.ids.length : -1;
      const leftFits =
        leftLen >= 0 &&
        longest * count <= maxBatchTokens &&
        real + leftLen >= minEfficiency * longest * count;
      const rightFits =
        rightLen >= 0 &&
        rightLen * count <= maxBatchTokens &&
        real + rightLen >= minEfficiency * rightLen * count;
      if (!leftFits && !rightFits) break;
      const leftWaste = longest - leftLen;
      const rightWaste = (rightLen - longest) * (count - 1);
      if (leftFits && (!rightFits || leftWaste <= rightWaste)) {
        lo--;
        real += leftLen;
      } else {
        hi++;
        longest = rightLen;
        real += rightLen;
      }
    }
    const batch = sorted.slice(lo, hi + 1);
    const taken = new Set(batch);
    this.queue = this.queue.filter((i) => !taken.has(i));
    return batch;
  }

  /**
   * Form batches once the event loop has read what is waiting (a check-phase callback runs
   * after the poll phase): requests that arrived together share a batch, and a lone request
   * waits for nothing.
   */
  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    defer(() => {
      this.pumping = false;
      this.dropCancelled();
      while (this.inflight < this.backend.slots && this.queue.length > 0) {
        void this.dispatch(this.takeBatch());
      }
    });
  }

  private async dispatch(items: Item[]): Promise<void> {
    this.inflight++;
    const now = performance.now();
    for (const item of items) item.request.firstDispatch ??= now;
    const batch = padBatch(
      items.map((i) => i.seq),
      this.opts.padId,
      this.opts.paddingSide,
    );
    const starts = batch.starts;
    const seqLen = batch.seqLen;
    this.stats.batches++;
    this.stats.sequences += items.length;
    this.stats.paddedTokens += seqLen * items.length;
    for (const item of items) this.stats.realTokens += item.seq.ids.length;
    try {
      const columns = this.opts.lastTokenColumns;
      const gather = columns
        ? {
            positions: items.map((item, b) => b * seqLen + starts[b]! + item.seq.ids.length - 1),
            columns,
          }
        : undefined;
      const { data, dims } = await this.backend.run(batch, this.opts.output, gather);
      const perToken = dims.length === 3;
      const dim = dims[dims.length - 1]!;
      items.forEach((item, b) => {
        const ids = item.seq.ids;
        let out: SequenceOutput;
        if (perToken) {
          const start = (b * seqLen + starts[b]!) * dim;
          out = {
            states: { data: data.slice(start, start + ids.length * dim), tokens: ids.length, dim },
            tokenIds: ids,
          };
        } else {
          out = {
            states: { data: data.slice(b * dim, (b + 1) * dim), tokens: 1, dim },
            tokenIds: ids,
          };
        }
        item.request.outputs[item.index] = out;
        item.request.remaining--;
        this.finish(item.request);
      });
    } catch (err) {
      for (const item of items) this.finish(item.request, err as Error);
    } finally {
      this.inflight--;
      this.pump();
    }
  }
}
