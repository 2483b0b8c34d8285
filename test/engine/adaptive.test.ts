import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Backend, InThreadBackend } from "../../src/engine/backend.js";
import { type OutputRead, type PaddedBatch, padBatch } from "../../src/engine/batch.js";
import {
  AdaptiveBackend,
  INLINE_MAX_TOKENS,
  inlineSessionOptions,
} from "../../src/engine/node/adaptive.js";
import { readModelFolder } from "../../src/engine/node/model-folder.js";
import { loadOnnxModel } from "../../src/engine/node/session.js";
import { DelegatingBackend } from "../helpers/backend.js";
import { fixture, maxAbsDiff } from "../helpers/fixtures.js";

/** A real session standing in for the workers, counting the batches it runs. */
class Counting extends DelegatingBackend {
  runs = 0;
  constructor(inner: Backend) {
    super(inner, 2, 1);
  }
  override run(batch: PaddedBatch, reads: readonly OutputRead[]) {
    this.runs++;
    return this.inner.run(batch, reads);
  }
}

const batchOf = (count: number, length: number) =>
  padBatch(
    Array.from({ length: count }, (_, b) => ({
      ids: Array.from({ length }, (_, i) => 10 + ((i + b) % 40)),
      typeIds: null,
    })),
    0,
    "right",
  );

describe("AdaptiveBackend: lone small batches on this thread, the rest in the workers", () => {
  let path: string;
  let config: Awaited<ReturnType<typeof readModelFolder>>["config"];
  let workers: Counting;
  let backend: AdaptiveBackend;
  const reads = [{ name: "last_hidden_state" }];
  const warnings: string[] = [];
  /** The backend's clock (ms), moved by the tests: no test waits on time. */
  let clock = 0;
  const IDLE = 10;
  /** Lone small batches in a row before the session here is created. */
  const LONE = 3;
  /** Batches of concurrent traffic in a row before it is released. */
  const BUSY = 4;
  /** How long creating the session here takes, on the backend's clock. */
  const CREATION = 10;
  /** Least time between two creations, in multiples of that. */
  const RECREATE = 100;

  beforeAll(async () => {
    const folder = await readModelFolder(fixture("bert-embed-mean"));
    path = folder.onnxPath;
    config = folder.config;
    workers = new Counting(new InThreadBackend(await loadOnnxModel(path, config)));
    backend = new AdaptiveBackend(
      workers,
      () =>
        loadOnnxModel(path, config).then((model) => {
          clock += CREATION;
          return model;
        }),
      (m) => warnings.push(m),
      {
        afterIdleMs: IDLE,
        afterLoneBatches: LONE,
        releaseAfterBusyBatches: BUSY,
        recreateAfterCreations: RECREATE,
        now: () => clock,
      },
    );
  });
  afterAll(async () => {
    await backend.close();
  });

  it("runs everything in the workers until lone small batches in a row have run there", async () => {
    // Batches without a hint (the load-time probes) do not count.
    for (let i = 0; i < LONE; i++) await backend.run(batchOf(1, 8), reads);
    await backend.settled();
    expect(backend.inlineReady).toBe(false);
    // Concurrent traffic: one batch that does not run alone, or a large one, starts the count over.
    const large = Math.ceil((INLINE_MAX_TOKENS + 1) / 32);
    for (const interrupt of [
      () => backend.run(batchOf(1, 8), reads, { alone: false }),
      () => backend.run(batchOf(large, 32), reads, { alone: true }),
    ]) {
      for (let i = 0; i < LONE - 1; i++) await backend.run(batchOf(1, 8), reads, { alone: true });
      await interrupt();
      await backend.settled();
      expect(backend.inlineReady).toBe(false);
    }
    for (let i = 0; i < LONE; i++) await backend.run(batchOf(1, 8), reads, { alone: true });
    expect(workers.runs).toBe(4 * LONE);
    await backend.settled();
    expect(backend.inlineReady).toBe(true);
    expect(warnings).toEqual([]);
  });

  it("then runs a lone small batch here unless concurrent traffic ran in the workers lately, with their results", async () => {
    clock += IDLE;
    const before = workers.runs;
    // A batch of concurrent traffic a moment ago: a lone batch still goes to the workers.
    await backend.run(batchOf(2, 8), reads, { alone: false });
    clock += IDLE - 1;
    await backend.run(batchOf(2, 8), reads, { alone: true });
    expect(workers.runs).toBe(before + 2);
    // The lone batch that just ran there does not count (one client sending one request after
    // another): from then on, every lone small batch runs here.
    clock += 1;
    const here = await backend.run(batchOf(2, 8), reads, { alone: true });
    await backend.run(batchOf(1, 8), reads, { alone: true });
    expect(workers.runs).toBe(before + 2);
    const there = await workers.run(batchOf(2, 8), reads);
    expect(maxAbsDiff(Array.from(here[0]!.data), Array.from(there[0]!.data))).toBeLessThan(1e-5);
  });

  it("sends a batch that does not run alone, or a large one, to the workers", async () => {
    clock += IDLE;
    const before = workers.runs;
    await backend.run(batchOf(1, 8), reads, { alone: false });
    clock += IDLE;
    const large = Math.ceil((INLINE_MAX_TOKENS + 1) / 32);
    await backend.run(batchOf(large, 32), reads, { alone: true });
    expect(workers.runs).toBe(before + 2);
  });

  it("releases the session here after batches of concurrent traffic in a row, and creates it again only after the interval", async () => {
    clock += IDLE;
    // A lone batch that runs here starts the count of concurrent batches over.
    await backend.run(batchOf(1, 8), reads, { alone: true });
    const before = workers.runs;
    for (let i = 0; i < BUSY - 1; i++) await backend.run(batchOf(2, 8), reads, { alone: false });
    clock += IDLE;
    await backend.run(batchOf(1, 8), reads, { alone: true });
    expect(workers.runs).toBe(before + BUSY - 1);
    for (let i = 0; i < BUSY - 1; i++) await backend.run(batchOf(2, 8), reads, { alone: false });
    await backend.settled();
    expect(backend.inlineReady).toBe(true);
    // Lone batches in the workers (concurrent traffic ran lately) neither count nor start it over.
    await backend.run(batchOf(1, 8), reads, { alone: true });
    await backend.run(batchOf(2, 8), reads, { alone: false });
    await backend.settled();
    expect(backend.inlineReady).toBe(false);
    expect(workers.runs).toBe(before + 2 * BUSY);
    // Lone traffic again: until RECREATE times its creation's time have passed since it was created,
    // lone batches stay in the workers.
    clock += IDLE;
    for (let i = 0; i < LONE + 2; i++) await backend.run(batchOf(1, 8), reads, { alone: true });
    await backend.settled();
    expect(backend.inlineReady).toBe(false);
    expect(workers.runs).toBe(before + 2 * BUSY + LONE + 2);
    // After it, the next lone batch in the workers creates it, and the one after runs here.
    clock += RECREATE * CREATION;
    await backend.run(batchOf(1, 8), reads, { alone: true });
    await backend.settled();
    expect(backend.inlineReady).toBe(true);
    const here = await backend.run(batchOf(1, 8), reads, { alone: true });
    const there = await workers.run(batchOf(1, 8), reads);
    expect(workers.runs).toBe(before + 2 * BUSY + LONE + 4);
    expect(maxAbsDiff(Array.from(here[0]!.data), Array.from(there[0]!.data))).toBeLessThan(1e-5);
    expect(warnings).toEqual([]);
  });

  it("keeps running in the workers when the session here cannot start, with a warning", async () => {
    const fallback = new Counting(new InThreadBackend(await loadOnnxModel(path, config)));
    const said: string[] = [];
    const b = new AdaptiveBackend(
      fallback,
      () => loadOnnxModel("/nonexistent/model.onnx", config),
      (m) => said.push(m),
      { afterIdleMs: IDLE, afterLoneBatches: 1, recreateAfterCreations: 0 },
    );
    await b.run(batchOf(1, 8), reads, { alone: true });
    await b.settled();
    // Not tried again, though the interval between creations has passed.
    await b.run(batchOf(1, 8), reads, { alone: true });
    await b.settled();
    expect(fallback.runs).toBe(2);
    expect(b.inlineReady).toBe(false);
    expect(said).toHaveLength(1);
    expect(said[0]).toMatch(/did not start/);
    await b.close();
  });
});

describe("the session for lone batches", () => {
  it("keeps the workers' options and plans its memory per input shape", () => {
    const workers = { intraOpNumThreads: 2, enableCpuMemArena: false, allowSpinning: false };
    expect(inlineSessionOptions(workers)).toEqual({ ...workers, enableMemPattern: true });
    // The workers' options are not changed.
    expect(workers).not.toHaveProperty("enableMemPattern");
  });
});
