import { availableParallelism } from "node:os";

/**
 * ONNX Runtime threads per session when `--intra-op-threads` is not given: the machine's cores
 * shared by the sessions. ONNX Runtime's own default counts physical cores as it sees them and can
 * settle on one thread where every vCPU is a core (measured in docs/performance.md: one thread on a
 * 2-vCPU machine, a lone sentence 2.8 ms instead of 2.0 ms).
 */
export function defaultIntraOpThreads(workers: number): number {
  return Math.max(1, Math.floor(availableParallelism() / Math.max(1, workers)));
}
