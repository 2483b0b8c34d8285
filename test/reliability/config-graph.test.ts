import { describe, expect, it } from "vitest";
import { LLM } from "../../src/engine/index.js";
import { runCli } from "../helpers/cli.js";
import { fixture } from "../helpers/fixtures.js";

describe("config.json is checked against the ONNX graph at load", () => {
  it.each([
    [
      { max_position_embeddings: 1e12 },
      /more than its ONNX graph accepts \(64 tokens\): pass --max-model-len 64/,
    ],
    [
      { vocab_size: 1e12 },
      /vocab_size \(1000000000000\) is more than the ONNX graph's embedding table \(169 rows\)/,
    ],
    [{ vocab_size: 170 }, /embedding table \(169 rows\)/],
  ])("refuses %j with what the graph accepts", async (overrides, message) => {
    await expect(
      LLM.load({ model: fixture("bert-embed-cls"), hfOverrides: overrides }),
    ).rejects.toThrow(message);
  });

  it("serve exits at start-up instead of answering 500 later", async () => {
    const r = await runCli([
      "serve",
      "--model",
      fixture("bert-embed-cls"),
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      "--hf-overrides",
      '{"max_position_embeddings":1e12}',
    ]);
    // Before it listens: one line on stderr, exit 2 (a model edgepool cannot load).
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/model failed to load/);
    expect(r.stdout).not.toMatch(/"listening"/);
    expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/--max-model-len 64/);
  });

  it("a config within the graph loads, as does a shorter --max-model-len", async () => {
    const llm = await LLM.load({ model: fixture("bert-embed-mean"), maxModelLen: 16 });
    expect(llm.maxModelLen).toBe(16);
    await llm.close();
  });
});
