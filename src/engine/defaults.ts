import type { RunDevice } from "./onnx-model.js";

/** Scheduler defaults, measured on the benchmark (see docs/performance.md). */
export const ENGINE_DEFAULTS = {
  maxBatchSize: 64,
  /**
   * Padded tokens of a micro-batch on the CPU. bench/memory-sweep.ts: 2,048 against 8,192 tokens,
   * −90 MiB peak RSS at equal throughput; 1,024 against 2,048, −23 MiB on the mixed workload, at c=64
   * ×1.007 and for one client's requests of 32 sentences equal (docs/performance.md).
   */
  maxBatchTokens: 1024,
  /** On a GPU: the CPU's budget before it was lowered to 1,024 (a GPU's not measured lower). */
  maxBatchTokensGpu: 2048,
  /**
   * Sequences longer than this count `length / 128` times their tokens against the budget:
   * 2,048 tokens make 16 × 128 or 4 × 256, not 8 × 256, whose attention scores held ~45 MiB more
   * of peak RSS on the mixed workload (docs/performance.md).
   */
  quadraticFrom: 128,
  maxConcurrentRequests: 1024,
  minBatchEfficiency: 0.9,
  /** Longest text prompt in characters, checked before tokenizing (~0.3 s of tokenizer time). */
  maxInputChars: 100_000,
  /**
   * Most prompt tokens per request: ~8 s of compute for a MiniLM-L6 on two cores (~8,300 tokens/s
   * at 512-token sequences, docs/performance.md), where the other limits together allow 2,048 × 512 tokens.
   */
  maxRequestTokens: 65_536,
} as const;

/** The default padded-token budget of a micro-batch on a device. */
export function defaultMaxBatchTokens(device: RunDevice): number {
  return device === "cpu" ? ENGINE_DEFAULTS.maxBatchTokens : ENGINE_DEFAULTS.maxBatchTokensGpu;
}

/**
 * A request's share of one micro-batch by default: a quarter of the token budget. With the CPU's
 * default, 256 tokens; a longer sequence runs whole, alone in its micro-batch when it costs the
 * budget (one 512-token sequence, ~60 ms of a MiniLM-L6 on two cores): about what a request arriving
 * behind a large one waits before its own batch runs (docs/performance.md, fairness). A budget raised
 * for a faster device raises the share with it.
 */
export function defaultBatchTokensPerRequest(maxBatchTokens: number): number {
  return Math.max(1, Math.floor(maxBatchTokens / 4));
}

/**
 * The largest graph (with its external data, in MiB) given a second session for lone batches by
 * default (`--inline-session auto`). That session holds its own prepacked weights: ~45 MiB for a
 * MiniLM-L6 (86 MB), whose lone request it makes 4–6 % faster; ~370 MB for a BERT-base (418 MiB),
 * for 2.7 % (docs/performance.md).
 */
export const INLINE_SESSION_MAX_MIB = 256;

/**
 * Lone small batches in a row that must have run in the workers before the session on the
 * calling thread is created: lone traffic. A server under concurrent load never pays for that
 * session's memory (its own prepacked weights, ~42 MiB for a MiniLM-L6).
 */
export const INLINE_AFTER_LONE_BATCHES = 8;

/**
 * Batches of concurrent traffic in a row (none run on the calling thread between them) after
 * which that session is released: under load it runs nothing, and its memory would add to what
 * the load makes the workers' arena grow to (peak RSS on the mixed workload after lone traffic
 * 413–426 against 367–377 MiB, docs/performance.md).
 */
export const INLINE_RELEASE_AFTER_BUSY_BATCHES = 8;

/**
 * Least time between two creations of that session, in multiples of how long the last one took:
 * creating it holds the event loop (~0.1–0.4 s here), so traffic that turns from lone to
 * concurrent and back spends at most 1 % of the event loop's time on it.
 */
export const INLINE_RECREATE_AFTER_CREATIONS = 100;
