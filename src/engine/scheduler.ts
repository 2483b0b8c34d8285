import { CancelledError, type SequenceOutput, TooManyRequestsError } from "../core/index.js";
import type { Backend } from "./backend.js";
import { padBatch, type SequenceInput } from "./batch.js";
import { FairQueue, type PackingLimits, type QueuedRequest, type QueueItem } from "./fair-queue.js";
import {
  DEFAULT_READ,
  type ScheduledResult,
  type SchedulerOptions,
  type SchedulerRead,
  type SchedulerStats,
} from "./scheduler-types.js";
import { sliceOutput } from "./slice-output.js";

export {
  DEFAULT_READ,
  type RequestTimings,
  type ScheduledResult,
  type SchedulerOptions,
  type SchedulerRead,
  type SchedulerStats,
} from "./scheduler-types.js";

interface RequestState extends QueuedRequest {
  read: string;
  outputs: SequenceOutput[];
  /** Takes each sequence's output as it arrives, instead of `outputs` keeping it. */
  consume: ((output: SequenceOutput, index: number) => void) | undefined;
  /** Sequences without an output yet. */
  remaining: number;
  submitted: number;
  firstDispatch: number | null;
  settled: boolean;
  resolve: (r: ScheduledResult) => void;
  reject: (e: Error) => void;
}

type Item = QueueItem<RequestState>;

/**
 * Resolve once the event loop has read what is waiting (a check-phase callback in Node), so
 * requests that arrived together share a micro-batch. Called only from the request that waits on
 * the work: where timers belong to a request (workerd drops those of a request that has
 * finished), no request's progress depends on another's timer.
 */
const immediate = (globalThis as { setImmediate?: (fn: () => void) => unknown }).setImmediate;
const nextTurn: () => Promise<void> = immediate
  ? () => new Promise((r) => immediate(r))
  : () => new Promise((r) => setTimeout(r, 0));

/**
 * Cross-request dynamic batching with fair interleaving: sequences from every request wait in
 * one length-sorted queue and are packed into micro-batches by a padded-token budget. Each
 * micro-batch is anchored on the request with the lowest virtual start time and takes at most
 * `maxBatchTokensPerRequest` of any one request, so a large request runs as many micro-batches
 * interleaved with the others' instead of holding the model until it is done. A batch is formed
 * as soon as a backend slot is free, so a lone request runs at once and batches grow under load.
 *
 * Waiting requests drive the queue themselves (batches are formed from a waiting request's own
 * context, never from a timer another request set); a finished micro-batch only wakes them.
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
  private readonly limits: PackingLimits;
  private readonly queue = new FairQueue<RequestState>();
  private inflight = 0;
  private active = 0;
  private arrivals = 0;
  /** Something changed since batches were last formed (an arrival, a finished batch, a cancel). */
  private changed = false;
  /** Requests waiting to form a batch, woken when a micro-batch finishes or a request is cancelled. */
  private readonly waiters = new Map<RequestState, () => void>();
  /** Counts wake-ups; `turnTaken` is the last one a waiting request took the turn for. */
  private epoch = 0;
  private turnTaken = -1;

  constructor(backend: Backend, opts: SchedulerOptions) {
    this.backend = backend;
    this.opts = opts;
    this.limits = {
      maxBatchTokens: opts.maxBatchTokens,
      quadraticFrom: opts.quadraticFrom ?? Number.POSITIVE_INFINITY,
      maxBatchSize: opts.maxBatchSize,
      minBatchEfficiency: opts.minBatchEfficiency ?? 0,
      maxBatchTokensPerRequest: opts.maxBatchTokensPerRequest ?? Number.POSITIVE_INFINITY,
      // One micro-batch per session at a time: a request never queues a second batch behind its
      // own, where a request arriving next would wait for both.
      maxInFlightPerRequest: backend.sessions,
    };
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
    return this.queue.size;
  }

  /**
   * Throw the 429 a full queue gives. Callers check before tokenizing, so that an overloaded
   * server sheds a request before spending event-loop time on it.
   */
  checkCapacity(): void {
    if (this.active >= this.opts.maxConcurrentRequests) {
      this.stats.rejected++;
      throw new TooManyRequestsError(
        `Too many requests: ${this.active} are queued or running (limit ${this.opts.maxConcurrentRequests}). Retry later.`,
      );
    }
  }

  /**
   * Queue the sequences of one request; resolves with their outputs in the given order. `read`
   * names one of the `reads` (the default output otherwise). With `consume`, each output is
   * handed to it as its micro-batch finishes and not kept (`outputs` is then empty): a request of
   * thousands of long inputs keeps what it pools, not every token's hidden state until its end.
   */
  submit(
    seqs: readonly SequenceInput[],
    signal?: AbortSignal,
    read: string = DEFAULT_READ,
    consume?: (output: SequenceOutput, index: number) => void,
  ): Promise<ScheduledResult> {
    if (signal?.aborted) return Promise.reject(new CancelledError());
    try {
      this.readSpec(read);
      this.checkCapacity();
    } catch (err) {
      return Promise.reject(err);
    }
    if (seqs.length === 0) {
      return Promise.resolve({ outputs: [], timings: { queueMs: 0, inferenceMs: 0 } });
    }
    this.active++;
    let request!: RequestState;
    const done = new Promise<ScheduledResult>((resolve, reject) => {
      request = {
        read,
        tag: 0,
        arrival: this.arrivals++,
        inFlight: 0,
        pending: 0,
        outputs: consume ? [] : new Array(seqs.length),
        consume,
        remaining: seqs.length,
        submitted: performance.now(),
        firstDispatch: null,
        settled: false,
        resolve,
        reject,
      };
    });
    this.queue.add(request, seqs);
    this.changed = true;
    if (signal) {
      const onAbort = () => this.cancel(request);
      signal.addEventListener("abort", onAbort, { once: true });
      void done.finally(() => signal.removeEventListener("abort", onAbort)).catch(() => undefined);
    }
    void this.drive(request);
    return done;
  }

  /**
   * Form batches on this request's behalf until all its sequences are in one: after an
   * event-loop turn, then whenever a micro-batch finishes (one waiting request takes the turn
   * per change, from its own context).
   */
  private async drive(request: RequestState): Promise<void> {
    await nextTurn();
    this.fill();
    while (request.pending > 0 && !request.settled) {
      await new Promise<void>((wake) => this.waiters.set(request, wake));
      if (request.pending === 0 || request.settled || this.turnTaken === this.epoch) continue;
      this.turnTaken = this.epoch;
      await nextTurn();
      this.fill();
    }
  }

  private readSpec(name: string): SchedulerRead {
    if (name === DEFAULT_READ) {
      const { lastTokenColumns: columns, splade } = this.opts;
      return {
        name: this.opts.output,
        ...(columns ? { lastTokenColumns: columns } : {}),
        ...(splade ? { splade } : {}),
      };
    }
    const read = this.opts.reads?.[name];
    if (!read) throw new RangeError(`No read '${name}' is configured`);
    return read;
  }

  /** Hand micro-batches to the backend while it has free slots. */
  private fill(): void {
    if (!this.changed) return;
    this.changed = false;
    while (this.inflight < this.backend.slots) {
      const batch = this.queue.take(this.limits);
      if (!batch) break;
      void this.dispatch(batch);
    }
  }

  private wake(): void {
    this.changed = true;
    this.epoch++;
    const waiters = [...this.waiters.values()];
    this.waiters.clear();
    for (const wake of waiters) wake();
  }

  /** A request has nothing left to queue: stop waiting on its behalf (while it is still live). */
  private release(request: RequestState): void {
    const wake = this.waiters.get(request);
    if (!wake) return;
    this.waiters.delete(request);
    wake();
  }

  /** The caller went away: drop what is still queued before it costs compute. */
  private cancel(request: RequestState): void {
    if (request.settled) return;
    this.stats.cancelled++;
    this.finish(request, new CancelledError());
    this.wake();
  }

  private finish(request: RequestState, error?: Error): void {
    if (request.settled) return;
    if (error) {
      request.settled = true;
      this.queue.remove(request);
      this.release(request);
      this.active--;
      request.reject(error);
      return;
    }
    if (request.remaining > 0) return;
    request.settled = true;
    this.active--;
    const now = performance.now();
    const first = request.firstDispatch ?? now;
    request.resolve({
      outputs: request.outputs,
      timings: { queueMs: first - request.submitted, inferenceMs: now - first },
    });
  }

  private async dispatch(items: Item[]): Promise<void> {
    const alone = this.inflight === 0 && this.queue.size === 0;
    this.inflight++;
    const now = performance.now();
    const requests = new Set<RequestState>();
    for (const item of items) {
      item.request.firstDispatch ??= now;
      requests.add(item.request);
    }
    for (const r of requests) if (r.pending === 0) this.release(r);
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
    const delivered: Array<[RequestState, number, SequenceOutput]> = [];
    let completing = 0;
    try {
      const keys = [...new Set(items.map((i) => i.request.read))];
      const specs = keys.map((k) => this.readSpec(k));
      const results = await this.backend.run(
        batch,
        specs.map(({ perToken: _, ...read }) => read),
        { alone },
      );
      items.forEach((item, b) => {
        if (item.request.settled) return;
        const k = keys.indexOf(item.request.read);
        const output = sliceOutput(results[k]!, specs[k]!, b, seqLen, starts[b]!, item.seq.ids);
        delivered.push([item.request, item.index, output]);
        if (--item.request.remaining === 0) completing++;
      });
    } catch (err) {
      for (const item of items) this.finish(item.request, err as Error);
    } finally {
      this.inflight--;
      for (const r of requests) r.inFlight--;
      this.queue.finished(seqLen * items.length, this.active - completing);
      this.wake();
    }
    // Pooled and answered once the next micro-batch is on its way, so pooling never delays it.
    for (const [request, index, output] of delivered) this.deliver(request, index, output);
    for (const r of requests) this.finish(r);
  }

  /** A sequence's output to its request: to `consume`, or kept in `outputs`. */
  private deliver(request: RequestState, index: number, output: SequenceOutput): void {
    if (request.settled) return;
    if (!request.consume) {
      request.outputs[index] = output;
      return;
    }
    try {
      request.consume(output, index);
    } catch (err) {
      // This request's failure only: the batch's other requests keep their outputs.
      this.finish(request, err as Error);
    }
  }
}
