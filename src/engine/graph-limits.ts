import { ModelConfigError } from "../core/index.js";
import type { Backend } from "./backend.js";
import { padBatch } from "./batch.js";

/** Longest probe run at load: lengths above it are taken from the config unverified. */
export const PROBE_MAX_TOKENS = 2048;

interface Probe {
  backend: Backend;
  output: string;
  padId: number;
  side: "left" | "right";
}

async function runs(p: Probe, ids: number[]): Promise<boolean> {
  try {
    await p.backend.run(padBatch([{ ids, typeIds: null }], p.padId, p.side), [{ name: p.output }]);
    return true;
  } catch {
    return false;
  }
}

/** The largest n in [low, high] with ok(n), given ok(low) (binary search, log2 probes). */
async function largest(low: number, high: number, ok: (n: number) => Promise<boolean>) {
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (await ok(mid)) low = mid;
    else high = mid - 1;
  }
  return low;
}

export interface GraphLimits {
  maxModelLen: number;
  vocabSize: number;
}

/**
 * Limits that already passed against this very ONNX file (the longest probe costs a forward
 * pass of PROBE_MAX_TOKENS or max_model_len tokens, tens of ms on a small model, at every start).
 */
export interface GraphCheckMemo {
  passed(limits: GraphLimits): Promise<boolean>;
  record(limits: GraphLimits): Promise<void>;
}

/**
 * Check `config.json`'s lengths against the ONNX graph at load with a few one-sequence runs:
 * the longest prompt (up to PROBE_MAX_TOKENS) and the highest token id must run. A config that
 * claims more than the graph takes (`max_position_embeddings` or `vocab_size` of 1e12) fails
 * the load, naming what the graph accepts, instead of answering 500 to long requests later.
 * With a memo, limits that passed before against the same file are not probed again.
 */
export async function checkConfigAgainstGraph(
  probe: Probe,
  limits: GraphLimits,
  memo?: GraphCheckMemo,
): Promise<void> {
  if (memo && (await memo.passed(limits))) return;
  const { maxModelLen, vocabSize } = limits;
  const length = Math.min(maxModelLen, PROBE_MAX_TOKENS);
  if (!(await runs(probe, new Array(length).fill(probe.padId)))) {
    const ok = await largest(1, length - 1, (n) => runs(probe, new Array(n).fill(probe.padId)));
    throw new ModelConfigError(
      `The model's maximum length (${maxModelLen} tokens, from config.json or --max-model-len) is more than its ONNX graph accepts (${ok} tokens): pass --max-model-len ${ok} or fix max_position_embeddings`,
    );
  }
  if (!Number.isSafeInteger(vocabSize) || vocabSize < 1 || !(await runs(probe, [vocabSize - 1]))) {
    const top = Number.isSafeInteger(vocabSize) && vocabSize > 0 ? vocabSize - 1 : 2 ** 31;
    const ok = await largest(0, top, (n) => runs(probe, [n]));
    throw new ModelConfigError(
      `config.json's vocab_size (${vocabSize}) is more than the ONNX graph's embedding table (${ok + 1} rows): fix vocab_size, e.g. --hf-overrides '{"vocab_size": ${ok + 1}}'`,
    );
  }
  await memo?.record(limits);
}
