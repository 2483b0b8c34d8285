import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CancelledError, TooManyRequestsError } from "../../src/core/index.js";
import { type Backend, InThreadBackend } from "../../src/engine/backend.js";
import type { PaddedBatch } from "../../src/engine/batch.js";
import { readModelFolder } from "../../src/engine/node/model-folder.js";
import { loadOnnxModel } from "../../src/engine/node/session.js";
import { Scheduler, type SchedulerOptions } from "../../src/engine/scheduler.js";
import { fixture, maxAbsDiff } from "../helpers/fixtures.js";

/** The real in-thread backend, recording each micro-batch and optionally holding runs until released. */
class RecordingBackend implements Backend {
  readonly batches: Array<{ count: number; seqLen: number; lengths: number[] }> = [];
  readonly slots = 1;
  private held: Array<() => void> = [];
  hold = false;

  constructor(private readonly inner: Backend) {}

  get outputs() {
    return this.inner.outputs;
  }

  get device() {
    return this.inner.device;
  }

  get fallback() {
    return this.inner.fallback;
  }

  async run(batch: PaddedBatch, output: string) {
    const lengths = Array.from({ length: batch.batch }, (_, b) => {
      let n = 0;
      for (let t = 0; t < batch.seqLen; t++) n += Number(batch.attentionMask[b * batch.seqLen + t]);
      return n;
    });
    this.batches.push({ count: batch.batch, seqLen: batch.seqLen, lengths });
    if (this.hold) await new Promise<void>((r) => this.held.push(r));
    return this.inner.run(batch, output);
  }

  release() {
    this.hold = false;
    for (const r of this.held.splice(0)) r();
  }

  close() {
    return this.inner.close();
  }
}

const seq = (n: number, base = 10) => ({
  ids: Array.from({ length: n }, (_, i) => base + (i % 40)),
  typeIds: null,
});

describe("scheduler", () => {
  let inner: Backend;
  beforeAll(async () => {
    const folder = await readModelFolder(fixture("bert-embed-mean"));
    inner = new InThreadBackend(await loadOnnxModel(folder.onnxPath, folder.config));
  });
  afterAll(async () => {
    await inner.close();
  });

  const make = (backend: Backend, over: Partial<SchedulerOptions> = {}) =>
    new Scheduler(backend, {
      maxBatchTokens: 64,
      maxBatchSize: 8,
      maxConcurrentRequests: 100,
      padId: 0,
      paddingSide: "right",
      output: "last_hidden_state",
      ...over,
    });

  it("returns every request's outputs in its own input order, equal to running alone", async () => {
    const backend = new RecordingBackend(inner);
    const s = make(backend);
    const requests = [[seq(5), seq(20), seq(3)], [seq(12, 50)], [seq(7, 30), seq(7, 60)]];
    const together = await Promise.all(requests.map((r) => s.submit(r)));
    for (const [i, r] of requests.entries()) {
      const alone = await make(inner).submit(r);
      expect(together[i]!.outputs.map((o) => o.states.tokens)).toEqual(r.map((x) => x.ids.length));
      expect(
        maxAbsDiff(
          together[i]!.outputs.map((o) => Array.from(o.states.data)),
          alone.outputs.map((o) => Array.from(o.states.data)),
        ),
      ).toBeLessThan(1e-5);
    }
  });

  it("packs queued sequences across requests by padded-token budget, shortest neighbours first", async () => {
    const backend = new RecordingBackend(inner);
    const s = make(backend, { maxBatchTokens: 64, maxBatchSize: 8 });
    backend.hold = true;
    const first = s.submit([seq(4)]);
    // Batches form once the event loop turns: the first request runs alone, the rest queue.
    await new Promise((r) => setImmediate(r));
    const lengths = [30, 3, 16, 5, 8, 3, 16, 4, 9, 31, 6, 2];
    const rest = lengths.map((n) => s.submit([seq(n)]));
    backend.release();
    await Promise.all([first, ...rest]);
    expect(backend.batches[0]!.count).toBe(1);
    for (const b of backend.batches.slice(1)) {
      expect(b.count).toBeLessThanOrEqual(8);
      if (b.count > 1) expect(b.seqLen * b.count).toBeLessThanOrEqual(64);
      expect(b.seqLen).toBe(Math.max(...b.lengths));
    }
    const ran = backend.batches
      .slice(1)
      .flatMap((b) => b.lengths)
      .sort((a, b) => a - b);
    expect(ran).toEqual([...lengths].sort((a, b) => a - b));
    expect(s.stats.realTokens / s.stats.paddedTokens).toBeGreaterThan(0.78);
  });

  it("puts requests that arrive in the same event-loop turn into one batch", async () => {
    const backend = new RecordingBackend(inner);
    const s = make(backend, { maxBatchTokens: 64, maxBatchSize: 8 });
    await Promise.all([s.submit([seq(5)]), s.submit([seq(6)]), s.submit([seq(7)])]);
    expect(backend.batches.map((b) => b.count)).toEqual([3]);
  });

  it("refuses requests over the concurrency limit with a 429", async () => {
    const backend = new RecordingBackend(inner);
    const s = make(backend, { maxConcurrentRequests: 2 });
    backend.hold = true;
    const a = s.submit([seq(4)]);
    const b = s.submit([seq(4)]);
    const c = s.submit([seq(4)]);
    await expect(c).rejects.toBeInstanceOf(TooManyRequestsError);
    await expect(c).rejects.toMatchObject({ status: 429 });
    backend.release();
    await Promise.all([a, b]);
    expect(s.activeRequests).toBe(0);
    await expect(s.submit([seq(4)])).resolves.toBeDefined();
  });

  it("drops a cancelled request before it costs compute", async () => {
    const backend = new RecordingBackend(inner);
    const s = make(backend);
    backend.hold = true;
    const running = s.submit([seq(4)]);
    const controller = new AbortController();
    const cancelled = s.submit([seq(9), seq(11)], controller.signal);
    const kept = s.submit([seq(6)]);
    controller.abort();
    backend.release();
    await expect(cancelled).rejects.toBeInstanceOf(CancelledError);
    await Promise.all([running, kept]);
    const ran = backend.batches.flatMap((b) => b.lengths);
    expect(ran).not.toContain(9);
    expect(ran).not.toContain(11);
    expect(s.stats.cancelled).toBe(1);
    expect(s.activeRequests).toBe(0);
  });

  it("reports queue and inference time per request", async () => {
    const s = make(new RecordingBackend(inner));
    const r = await s.submit([seq(5)]);
    expect(r.timings.queueMs).toBeGreaterThanOrEqual(0);
    expect(r.timings.inferenceMs).toBeGreaterThanOrEqual(0);
  });
});
