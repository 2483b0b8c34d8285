import type { Backend, RunHint } from "../../src/engine/backend.js";
import type { OutputRead, PaddedBatch } from "../../src/engine/batch.js";

/** A real backend behind a wrapper that tests extend to watch or hold its runs. */
export class DelegatingBackend implements Backend {
  constructor(
    protected readonly inner: Backend,
    readonly slots = 1,
    readonly sessions = 1,
  ) {}

  get outputs() {
    return this.inner.outputs;
  }

  get device() {
    return this.inner.device;
  }

  get fallback() {
    return this.inner.fallback;
  }

  run(batch: PaddedBatch, reads: readonly OutputRead[], hint?: RunHint) {
    return this.inner.run(batch, reads, hint);
  }

  close() {
    return this.inner.close();
  }
}
