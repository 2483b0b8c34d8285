import { execFileSync } from "node:child_process";
import { cpSync, existsSync, writeFileSync } from "node:fs";
import http from "node:http";
import { join } from "node:path";
import { shuffle, stsSentences } from "./data.js";
import { CACHE, ensureModel } from "./models.js";
import { metric, peakRss, serveArgs, spawnServer } from "./procs.js";
import { percentile } from "./stats.js";

/** Small-request p99 under the large request ≤ this × the idle p99. */
export const FAIRNESS_GOAL = 5;

export interface FairnessOptions {
  /** The server build (`dist/cli/main.js` of this or another checkout). */
  bin: string;
  /** The large request: `inputs` inputs of `tokens` tokens each. */
  inputs: number;
  tokens: number;
  /** Closed-loop clients of small requests (one STS sentence each). */
  clients: number;
  idleSeconds: number;
  /**
   * Longest the small load runs beside the large request: past it the large request is abandoned
   * (its connection closed, which cancels it) and its rate is read from the server's token
   * counters. A slow machine takes tens of minutes for 2,048 × 512 tokens beside four clients.
   */
  loadedSeconds: number;
  /** More serve flags. */
  flags: string[];
  /** Also time the large request by itself first. */
  alone: boolean;
  port: number;
}

export interface Latencies {
  requests: number;
  p50: number;
  p99: number;
  max: number;
  errors: number;
}

export interface FairnessResult {
  tokensPerInput: number;
  bodyBytes: number;
  /** The large request beside the small load: its time (or the window, if `finished` is false). */
  largeSeconds: number;
  /** Whether the large request was answered within `loadedSeconds`. */
  finished: boolean;
  /** Its tokens per second beside the small load (from the server's counters when not finished). */
  largeTokensPerSecond: number;
  aloneTokensPerSecond: number | null;
  idle: Latencies;
  loaded: Latencies;
  /** Loaded p99 / idle p99 (goal ≤ FAIRNESS_GOAL). */
  ratio: number;
  peakRssBytes: number;
}

/**
 * The bench model with sentence-transformers' 256-token cap lifted to its graph's 512 positions
 * (a copy of the folder: serve follows no links out of it), so that 512-token inputs are within
 * its limits.
 */
function model512(): string {
  const src = ensureModel("minilm-l6");
  const dir = join(CACHE, "minilm-l6-512");
  if (!existsSync(join(dir, "config.json"))) {
    cpSync(src, dir, { recursive: true });
    writeFileSync(
      join(dir, "sentence_bert_config.json"),
      JSON.stringify({ max_seq_length: 512, do_lower_case: false }),
    );
  }
  return dir;
}

/** Whether a server build knows a flag (an older build may not). */
function supports(bin: string, flag: string): boolean {
  return execFileSync(process.execPath, [bin, "serve", "--help"], { encoding: "utf8" }).includes(
    flag,
  );
}

const stat = (l: number[], errors: number): Latencies => ({
  requests: l.length,
  p50: percentile(l, 50),
  p99: percentile(l, 99),
  max: Math.max(...l),
  errors,
});

/**
 * One large request against small ones: the small requests' latency (closed-loop clients) while
 * the large request runs, against the same clients on the idle server. Loopback only; bounded by
 * the large request's own time or `loadedSeconds`, whichever is shorter.
 */
export async function measureFairness(o: FairnessOptions): Promise<FairnessResult> {
  const server = await spawnServer(
    process.execPath,
    [
      o.bin,
      ...serveArgs(o.port, "--model", o.tokens > 256 ? model512() : ensureModel("minilm-l6")),
      // The large request is the scenario: allow it (builds from before the flag have no limit).
      ...(supports(o.bin, "--max-request-tokens")
        ? ["--max-request-tokens", String(o.inputs * o.tokens)]
        : []),
      ...o.flags,
    ],
    o.port,
    async (b) => (await fetch(`${b}/health`)).status === 200,
  );
  const agent = new http.Agent({ keepAlive: true, maxSockets: o.clients + 1 });
  const post = (path: string, body: string, signal?: AbortSignal) =>
    new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = http.request(
        {
          agent,
          signal,
          host: "127.0.0.1",
          port: o.port,
          path,
          method: "POST",
          headers: {
            "content-type": "application/json",
            "content-length": Buffer.byteLength(body),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () =>
            resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }),
          );
        },
      );
      req.on("error", reject);
      req.end(body);
    });
  try {
    const smalls = shuffle(stsSentences()).map((s) => JSON.stringify({ input: s }));
    let next = 0;
    let smallTokens = 0;
    const smallLoad = async (stop: () => boolean) => {
      const latencies: number[] = [];
      let errors = 0;
      await Promise.all(
        Array.from({ length: o.clients }, async () => {
          while (!stop()) {
            const t = performance.now();
            const r = await post("/v1/embeddings", smalls[next++ % smalls.length]!);
            latencies.push(performance.now() - t);
            if (r.status !== 200) errors++;
            else smallTokens += JSON.parse(r.text).usage.prompt_tokens as number;
          }
        }),
      );
      return stat(latencies, errors);
    };
    const counter = async (name: string) => {
      const value = await metric(server.url, name);
      if (Number.isNaN(value)) throw new Error(`/metrics has no ${name}`);
      return value;
    };
    const computedTokens = () => counter("edgepool_batch_real_tokens_total");
    // Every input is `tokens - 2` dots: BERT's tokenizer makes each a token, plus [CLS] and [SEP].
    const largeInput = ".".repeat(o.tokens - 2);
    const counted = JSON.parse(
      (await post("/tokenize", JSON.stringify({ prompt: largeInput }))).text,
    ).count as number;
    if (counted !== o.tokens)
      throw new Error(`a large input is ${counted} tokens, not ${o.tokens}`);
    const largeBody = JSON.stringify({ input: Array.from({ length: o.inputs }, () => largeInput) });
    const large = async (signal?: AbortSignal) => {
      const t = performance.now();
      const r = await post("/v1/embeddings", largeBody, signal);
      if (r.status !== 200)
        throw new Error(`the large request: ${r.status} ${r.text.slice(0, 300)}`);
      return (performance.now() - t) / 1000;
    };
    const total = o.inputs * counted;

    const warm = next + 200;
    await smallLoad(() => next >= warm);
    const idleUntil = performance.now() + o.idleSeconds * 1000;
    const idle = await smallLoad(() => performance.now() > idleUntil);
    const aloneTokensPerSecond = o.alone ? total / (await large()) : null;
    let largeDone = false;
    const abandon = new AbortController();
    const tokensBefore = await computedTokens();
    smallTokens = 0;
    const started = performance.now();
    const running = large(abandon.signal)
      .then((seconds) => seconds as number | null)
      .catch((e: unknown) => {
        if (abandon.signal.aborted) return null;
        throw e;
      })
      .finally(() => {
        largeDone = true;
      });
    const until = started + o.loadedSeconds * 1000;
    const loaded = await smallLoad(() => largeDone || performance.now() > until);
    const window = (performance.now() - started) / 1000;
    const largeTokens = (await computedTokens()) - tokensBefore - smallTokens;
    const cancelledBefore = await counter("edgepool_requests_cancelled_total");
    abandon.abort();
    const answered = await running;
    if (answered === null) {
      // Closing the connection must stop the work: wait for the server to count the cancel.
      const deadline = performance.now() + 10_000;
      while ((await counter("edgepool_requests_cancelled_total")) === cancelledBefore) {
        if (performance.now() > deadline)
          throw new Error("the abandoned large request was not cancelled within 10 s");
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    return {
      tokensPerInput: counted,
      bodyBytes: Buffer.byteLength(largeBody),
      largeSeconds: answered ?? window,
      finished: answered !== null,
      largeTokensPerSecond: answered !== null ? total / answered : largeTokens / window,
      aloneTokensPerSecond,
      idle,
      loaded,
      ratio: loaded.p99 / idle.p99,
      peakRssBytes: peakRss(server.proc.pid!),
    };
  } finally {
    agent.destroy();
    await server.stop();
  }
}
