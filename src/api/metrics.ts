import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { Scheduler } from "../engine/scheduler.js";

const SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Prometheus metrics with TEI's names (`te_*`), one registry per app. */
export class Metrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: "te_request_count",
    help: "Requests received",
    labelNames: ["method"],
    registers: [this.registry],
  });
  readonly success = new Counter({
    name: "te_request_success",
    help: "Successful requests",
    labelNames: ["method"],
    registers: [this.registry],
  });
  readonly failure = new Counter({
    name: "te_request_failure",
    help: "Failed requests",
    labelNames: ["err"],
    registers: [this.registry],
  });
  readonly duration = new Histogram({
    name: "te_request_duration",
    help: "Request duration (s)",
    labelNames: ["method"],
    buckets: SECONDS,
    registers: [this.registry],
  });
  readonly tokenization = new Histogram({
    name: "te_request_tokenization_duration",
    help: "Tokenization time per request (s)",
    buckets: SECONDS,
    registers: [this.registry],
  });
  readonly queue = new Histogram({
    name: "te_request_queue_duration",
    help: "Time queued per request (s)",
    buckets: SECONDS,
    registers: [this.registry],
  });
  readonly inference = new Histogram({
    name: "te_request_inference_duration",
    help: "Inference time per request (s)",
    buckets: SECONDS,
    registers: [this.registry],
  });
  readonly inputLength = new Histogram({
    name: "te_request_input_length",
    help: "Prompt tokens per request",
    buckets: [1, 8, 32, 128, 512, 2048, 8192, 32768],
    registers: [this.registry],
  });
  readonly queueSize = new Gauge({
    name: "te_queue_size",
    help: "Requests waiting or running",
    registers: [this.registry],
  });

  private scheduler: () => Scheduler | null = () => null;

  constructor(defaults = true) {
    if (defaults) collectDefaultMetrics({ register: this.registry, prefix: "edgepool_" });
    const self = this;
    const stat = (name: string, help: string, read: (s: Scheduler) => number) =>
      new Gauge({
        name,
        help,
        registers: [this.registry],
        collect() {
          const s = self.scheduler();
          this.set(s ? read(s) : 0);
        },
      });
    stat(
      "te_batch_next_size",
      "Sequences waiting for the next micro-batch",
      (s) => s.queuedSequences,
    );
    stat("edgepool_batches_total", "Micro-batches run", (s) => s.stats.batches);
    stat(
      "edgepool_batch_sequences_total",
      "Sequences run in micro-batches",
      (s) => s.stats.sequences,
    );
    stat(
      "edgepool_batch_real_tokens_total",
      "Real (unpadded) tokens computed",
      (s) => s.stats.realTokens,
    );
    stat(
      "edgepool_batch_padded_tokens_total",
      "Tokens computed including padding",
      (s) => s.stats.paddedTokens,
    );
    stat("edgepool_requests_rejected_total", "Requests refused with 429", (s) => s.stats.rejected);
    stat(
      "edgepool_requests_cancelled_total",
      "Requests dropped after the client left",
      (s) => s.stats.cancelled,
    );
  }

  /** Read queue and batch figures from this scheduler at scrape time. */
  watch(scheduler: () => Scheduler | null): void {
    this.scheduler = scheduler;
  }
}
