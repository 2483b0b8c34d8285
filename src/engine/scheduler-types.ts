// The scheduler's options, the reads a micro-batch makes, and what a request gets back.
import type { SequenceOutput, SpladeReduce } from "../core/index.js";
import type { OutputRead } from "./batch.js";

export interface SchedulerOptions {
  /** Most padded tokens (longest × count) in one micro-batch. */
  maxBatchTokens: number;
  /**
   * From this length on, a sequence's tokens count `longest / quadraticFrom` times against
   * `maxBatchTokens` (the attention's memory grows with the square of the length). Default: no
   * such weighting.
   */
  quadraticFrom?: number;
  /** Most sequences in one micro-batch. */
  maxBatchSize: number;
  /**
   * Most tokens one request puts into one micro-batch: a larger request runs as several,
   * interleaved with other requests', so a request arriving meanwhile waits for about one such
   * share rather than the whole large request. A single longer sequence still runs. Default:
   * no limit.
   */
  maxBatchTokensPerRequest?: number;
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
  /** Reduce the output (vocabulary logits) to each sequence's SPLADE vector in the session. */
  splade?: SpladeReduce;
  /**
   * Other reads a request may ask for by name instead of `output` (a graph with several outputs,
   * as bge-m3's; SPLADE's reduction). A micro-batch of requests reading different ones runs once
   * and fetches each.
   */
  reads?: Readonly<Record<string, SchedulerRead>>;
}

/** A named read: the output, what to keep of it, and whether a `[batch, seq]` output is per token. */
export interface SchedulerRead extends OutputRead {
  perToken?: boolean;
}

/** The read a request gets when it names none. */
export const DEFAULT_READ = "default";

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
