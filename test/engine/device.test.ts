import { describe, expect, it } from "vitest";
import { loadEngine } from "../../src/engine/index.js";
import { readModelFolder } from "../../src/engine/node/model-folder.js";
import { loadOnnxModel } from "../../src/engine/node/session.js";
import { fixture } from "../helpers/fixtures.js";

// This machine has onnxruntime-node without its CUDA provider libraries (and no GPU), which is
// exactly the case `--device auto` must survive.
describe("--device", () => {
  it("cuda fails loudly when the CUDA provider cannot load", async () => {
    const folder = await readModelFolder(fixture("bert-embed-mean"));
    await expect(loadOnnxModel(folder.onnxPath, folder.config, { device: "cuda" })).rejects.toThrow(
      /on cuda \(is the CUDA execution provider installed/,
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
      const [out] = await engine.pool("embed", ["hello world"]);
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
