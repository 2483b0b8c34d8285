import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CancelledError, TooManyRequestsError } from "../../src/core/index.js";
import { type Backend, InThreadBackend } from "../../src/engine/backend.js";
import type { OutputRead, PaddedBatch } from "../../src/engine/batch.js";
import { readModelFolder } from "../../src/engine/node/model-folder.js";
import { loadOnnxModel } from "../../src/engine/node/session.js";
import { Scheduler, type SchedulerOptions } from "../../src/engine/scheduler.js";
import { DelegatingBackend } from "../helpers/backend.js";
import { fixture, maxAbsDiff } from "../helpers/fixtures.js";

/** The real in-thread backend, recording each micro-batch and optionally holding runs until released. */
class RecordingBackend extends DelegatingBackend {
  /** Each micro-batch: its rows' real lengths and first token ids (which request they came from). */
  readonly batches: Array<{ count: number; seqLen: number; lengths: number[]; firsts: number[] }> =
    [];
  private held: Array<() => void> = [];
  hold = false;

  /** Runs handed over and not yet released. */
  get waiting() {
    return this.held.length;
  }

  override async run(batch: PaddedBatch, reads: readonly OutputRead[]) {
    const lengths = Array.from({ length: batch.batch }, (_, b) => {
      let n = 0;
      for (let t = 0; t < batch.seqLen; t++) n += Number(batch.attentionMask[b * batch.seqLen + t]);
      return n;
    });
    const firsts = Array.from({ length: batch.batch }, (_, b) =>
      Number(batch.inputIds[b * batch.seqLen]),
    );
    this.batches.push({ count: batch.batch, seqLen: batch.seqLen, lengths, firsts });
    if (this.hold) await new Promise<void>((r) => this.held.push(r));
    return this.inner.run(batch, reads);
  }

  release() {
    this.hold = false;
    for (const r of this.held.splice(0)) r();
  }

  /** Let the oldest held run compute. */
  releaseOne() {
    this.held.shift()?.();
  }
}

/** Let the event loop turn until `done()` holds (bounded by turns, not time). */
async function until(done: () => boolean, turns = 1000) {
  for (let i = 0; i < turns && !done(); i++) await new Promise((r) => setImmediate(r));
  expect(done()).toBe(true);
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

  it("counts a sequence longer than quadraticFrom length / quadraticFrom times against the budget", async () => {
    const backend = new RecordingBackend(inner);
    const s = make(backend, { maxBatchTokens: 64, maxBatchSize: 8, quadraticFrom: 8 });
    backend.hold = true;
    const first = s.submit([seq(2)]);
    await new Promise((r) => setImmediate(r));
    // 16 tokens count twice: two fit in 64; sequences of 8 tokens or fewer count once.
    const rest = [
      s.submit(Array.from({ length: 6 }, () => seq(16, 50))),
      s.submit(Array.from({ length: 8 }, () => seq(4, 90))),
    ];
    backend.release();
    await Promise.all([first, ...rest]);
    const long = backend.batches.filter((b) => b.seqLen === 16);
    const short = backend.batches.filter((b) => b.seqLen === 4);
    expect(long.length).toBeGreaterThan(0);
    for (const b of long) expect(b.count).toBeLessThanOrEqual(2);
    expect(Math.max(...short.map((b) => b.count))).toBe(8);
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

  it("puts a request that arrives while a large one runs into the next micro-batch", async () => {
    const backend = new RecordingBackend(inner);
    const s = make(backend, { maxBatchTokensPerRequest: 16 });
    backend.hold = true;
    const finished: string[] = [];
    const large = s
      .submit(Array.from({ length: 12 }, () => seq(12, 100)))
      .then(() => finished.push("large"));
    await until(() => backend.waiting === 1);
    // The large request's share is one 12-token sequence per micro-batch.
    expect(backend.batches[0]!.lengths).toEqual([12]);
    const small = [
      s.submit([seq(4, 10)]).then(() => finished.push("small-a")),
      s.submit([seq(5, 20)]).then(() => finished.push("small-b")),
    ];
    backend.releaseOne();
    await until(() => backend.batches.length === 2);
    // Both small requests in the very next batch, beside at most one share of the large one.
    expect(backend.batches[1]!.firsts.filter((f) => f < 100).sort()).toEqual([10, 20]);
    backend.release();
    await Promise.all([large, ...small]);
    expect(finished.indexOf("small-a")).toBeLessThan(finished.indexOf("large"));
    expect(finished.indexOf("small-b")).toBeLessThan(finished.indexOf("large"));
    for (const b of backend.batches) {
      const mine = b.lengths.filter((_, i) => b.firsts[i] === 100);
      expect(mine.length).toBeLessThanOrEqual(1);
    }
    expect(backend.batches.flatMap((b) => b.firsts).filter((f) => f === 100)).toHaveLength(12);
  });

  it("keeps one micro-batch of a request in flight per session, leaving the next slot to others", async () => {
    const backend = new RecordingBackend(inner, 2, 1);
    const s = make(backend, { maxBatchTokensPerRequest: 24 });
    backend.hold = true;
    const large = s.submit(Array.from({ length: 8 }, () => seq(12, 100)));
    await until(() => backend.waiting === 1);
    // A second slot is free, but the large request waits for its own batch to finish…
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    expect(backend.waiting).toBe(1);
    // …so a request arriving now is handed over at once, queued behind a single share.
    const small = s.submit([seq(4, 10)]);
    await until(() => backend.waiting === 2);
    expect(backend.batches[1]!.firsts).toEqual([10]);
    backend.release();
    await Promise.all([large, small]);
    for (const b of backend.batches) expect(b.count * b.seqLen).toBeLessThanOrEqual(24);
  });

  it("does not starve a large request while small ones keep arriving", async () => {
    const backend = new RecordingBackend(inner);
    // Efficient batches only: the large request's sequences never ride along with the small ones.
    const s = make(backend, { maxBatchTokensPerRequest: 12, minBatchEfficiency: 0.9 });
    let largeDone = false;
    const large = s.submit(Array.from({ length: 10 }, () => seq(12, 100))).then(() => {
      largeDone = true;
    });
    // Two clients, each sending its next small request as soon as the last is answered: one
    // small request is always waiting when a batch finishes.
    let smalls = 0;
    const client = async () => {
      while (!largeDone && smalls < 1000) {
        smalls++;
        await s.submit([seq(4, 10)]);
      }
    };
    await Promise.all([client(), client(), large]);
    expect(largeDone).toBe(true);
    expect(smalls).toBeLessThan(1000);
  });

  it("reports queue and inference time per request", async () => {
    const backend = new RecordingBackend(inner);
    const s = make(backend, { maxBatchSize: 1 });
    const started = performance.now();
    const r = await s.submit([seq(5)]);
    const elapsed = performance.now() - started;
    // A run happened and was timed; both times lie within the call.
    expect(r.timings.inferenceMs).toBeGreaterThan(0);
    expect(r.timings.queueMs).toBeGreaterThanOrEqual(0);
    expect(r.timings.queueMs + r.timings.inferenceMs).toBeLessThanOrEqual(elapsed);
    // A request that waits behind a held run counts its wait as queue time.
    backend.hold = true;
    const first = s.submit([seq(5)]);
    const second = s.submit([seq(6)]);
    await new Promise((resolve) => setTimeout(resolve, 5));
    backend.release();
    const [, waited] = await Promise.all([first, second]);
    expect(waited.timings.queueMs).toBeGreaterThan(0);
    expect(waited.timings.inferenceMs).toBeGreaterThan(0);
  });

  it("hands each output to `consume` as its micro-batch finishes, keeping none of them", async () => {
    const backend = new RecordingBackend(inner);
    const s = make(backend, { maxBatchTokens: 64, maxBatchSize: 2 });
    const r = Array.from({ length: 6 }, (_, i) => seq(8 + i));
    const alone = await make(inner).submit(r);
    const seen: Array<{ index: number; batchesRun: number; tokens: number[] }> = [];
    const result = await s.submit(r, undefined, undefined, (output, index) => {
      seen.push({ index, batchesRun: backend.batches.length, tokens: [output.states.tokens] });
      expect(
        maxAbsDiff(
          [Array.from(output.states.data)],
          [Array.from(alone.outputs[index]!.states.data)],
        ),
      ).toBeLessThan(1e-5);
    });
    expect(result.outputs).toEqual([]);
    expect(seen.map((x) => x.index).sort()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(backend.batches.length).toBeGreaterThan(1);
    // The first outputs were taken before the last micro-batch ran.
    expect(seen[0]!.batchesRun).toBeLessThan(backend.batches.length);
  });

  it("fails only the request whose `consume` throws, not the others in its micro-batch", async () => {
    const s = make(new RecordingBackend(inner), { maxBatchTokens: 256, maxBatchSize: 8 });
    const bad = s.submit([seq(5)], undefined, undefined, () => {
      throw new Error("pooling failed");
    });
    const good = s.submit([seq(5, 30)]);
    await expect(bad).rejects.toThrow("pooling failed");
    expect((await good).outputs).toHaveLength(1);
    expect(s.activeRequests).toBe(0);
  });
});
