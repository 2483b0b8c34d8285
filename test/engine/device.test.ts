import * as ort from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import { loadEngine } from "../../src/engine/index.js";
import { readModelFolder } from "../../src/engine/node/model-folder.js";
import { loadOnnxModel } from "../../src/engine/node/session.js";
import { runCli } from "../helpers/cli.js";
import { fixture } from "../helpers/fixtures.js";

// The CUDA provider failures below are expected: ONNX Runtime's own line about each (its default
// logger, whose level is fixed when this process creates its first session) stays out of the
// test output. The CLI test reads that line from the process's stderr instead.
ort.env.logLevel = "fatal";

// This machine has onnxruntime-node without its CUDA provider libraries (and no GPU), which is
// exactly the case `--device auto` must survive.
describe("--device", () => {
  it("cuda fails loudly when the CUDA provider cannot load", async () => {
    const folder = await readModelFolder(fixture("bert-embed-mean"));
    await expect(loadOnnxModel(folder.onnxPath, folder.config, { device: "cuda" })).rejects.toThrow(
      /on cuda \(is the CUDA execution provider installed/,
    );
  });

  it("cuda from the CLI: one line of ours, and ONNX Runtime's naming the library that failed", async () => {
    const r = await runCli([
      "embed",
      "--model",
      fixture("bert-embed-mean"),
      "--device",
      "cuda",
      "a",
    ]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/^edgepool embed: Could not load .* on cuda \(is the CUDA/m);
    // The exception only says "Failed to load shared library"; ONNX Runtime's line says which.
    expect(r.stderr).toMatch(
      /\[E:onnxruntime:.*Failed to load library .*libonnxruntime_providers_/,
    );
  });

  it("auto falls back to the CPU and says why", async () => {
    const folder = await readModelFolder(fixture("bert-embed-mean"));
    const model = await loadOnnxModel(folder.onnxPath, folder.config, { device: "auto" });
    expect(model.device).toBe("cpu");
    expect(model.fallback).toMatch(/^CUDA unavailable: /);
    await model.release();
  });

  it("auto in worker threads: the engine reports the device it runs on", async () => {
    const engine = await loadEngine({
      model: fixture("bert-embed-mean"),
      device: "auto",
      workers: 1,
    });
    try {
      expect(engine.device).toBe("cpu");
      expect(engine.deviceFallback).toMatch(/CUDA unavailable/);
      const { results } = await engine.run({ task: "embed", prompts: ["hello world"] }, {});
      const out = results[0];
      expect(out!.output.length).toBeGreaterThan(0);
    } finally {
      await engine.close();
    }
  });

  it("cpu reports no fallback", async () => {
    const engine = await loadEngine({ model: fixture("bert-embed-mean") });
    try {
      expect(engine.device).toBe("cpu");
      expect(engine.deviceFallback).toBeNull();
    } finally {
      await engine.close();
    }
  });
});
