import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { engineOptions } from "../../src/config/engine-options.js";
import { AdaptiveBackend, graphBytes, startWorkers } from "../../src/engine/node/adaptive.js";
import { readModelFolder } from "../../src/engine/node/model-folder.js";
import { WorkerPoolBackend } from "../../src/engine/node/worker-pool.js";
import { fixture } from "../helpers/fixtures.js";

describe("--inline-session auto: a session for lone batches only for a graph of up to 256 MiB", () => {
  const dir = mkdtempSync(join(tmpdir(), "edgepool-graph-bytes-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("sizes a graph with its external data, not the other graphs beside it nor theirs", async () => {
    const files: Record<string, number> = {
      "model.onnx": 10,
      "model.onnx_data": 100,
      "model_fp16.onnx": 1000,
      "model_fp16.onnx_data": 5000,
      onnx__MatMul_123: 20_000,
    };
    for (const [name, size] of Object.entries(files))
      writeFileSync(join(dir, name), "x".repeat(size));
    mkdirSync(join(dir, "sub"));
    expect(await graphBytes(join(dir, "model.onnx"))).toBe(10 + 100 + 20_000);
    expect(await graphBytes(join(dir, "model_fp16.onnx"))).toBe(1000 + 5000 + 20_000);
  });

  it("starts the session for lone batches for a small graph, not for a larger one unless asked", async () => {
    const folder = await readModelFolder(fixture("bert-embed-mean"));
    const bytes = await graphBytes(folder.onnxPath);
    expect(bytes).toBeGreaterThan(0);
    const start = (always: boolean, maxBytes: number) =>
      startWorkers(folder.onnxPath, folder.config, {}, 1, { warn: () => {}, always, maxBytes });
    const cases: Array<[boolean, number, typeof AdaptiveBackend | typeof WorkerPoolBackend]> = [
      [false, bytes, AdaptiveBackend],
      [false, bytes - 1, WorkerPoolBackend],
      [true, bytes - 1, AdaptiveBackend],
    ];
    for (const [always, maxBytes, kind] of cases) {
      const backend = await start(always, maxBytes);
      try {
        expect(backend, `always ${always}, up to ${maxBytes} of ${bytes} bytes`).toBeInstanceOf(
          kind,
        );
      } finally {
        await backend.close();
      }
    }
  });

  it("reads auto, on and off, and refuses anything else naming the choices", () => {
    expect(engineOptions({ model: "m" }).inlineSession).toBeUndefined();
    expect(engineOptions({ model: "m", "inline-session": "auto" }).inlineSession).toBe("auto");
    expect(engineOptions({ model: "m", "inline-session": "on" }).inlineSession).toBe(true);
    expect(engineOptions({ model: "m", "inline-session": "off" }).inlineSession).toBe(false);
    expect(() => engineOptions({ model: "m", "inline-session": "yes" })).toThrow(
      "--inline-session must be one of auto, on, off",
    );
  });
});
