import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { fromVllmArgs } from "../../src/cli/vllm-args.js";
import { fixture, goldenCase, maxAbsDiff } from "../helpers/fixtures.js";
import { BIN, postJson, type RunningServer, startServer } from "../helpers/server.js";

const run = promisify(execFile);
const options = {
  model: { type: "string" },
  "hf-overrides": { type: "string" },
  "pooler-config": { type: "string" },
  port: { type: "string" },
  verbose: { type: "boolean" },
} as const;

describe("vLLM command lines", () => {
  it("rewrites what vLLM users paste", () => {
    const { argv, notes } = fromVllmArgs(
      [
        "--port",
        "0",
        "org/model",
        "--hf_overrides",
        '{"is_matryoshka":true}',
        "--override-pooler-config",
        '{"pooling_type":"MEAN"}',
        "--task",
        "embed",
        "--trust-remote-code",
        "--verbose",
      ],
      { positionalModel: true, options },
    );
    expect(argv).toEqual([
      "--model",
      "org/model",
      "--port",
      "0",
      "--hf-overrides",
      '{"is_matryoshka":true}',
      "--pooler-config",
      '{"pooling_type":"MEAN"}',
      "--convert",
      "embed",
      "--verbose",
    ]);
    expect(notes.join("\n")).toMatch(/override-pooler-config is deprecated: use --pooler-config/);
    expect(notes.join("\n")).toMatch(/--task is deprecated .* --convert embed/);
    expect(notes.join("\n")).toMatch(/--trust-remote-code is accepted and has no effect/);
  });

  it("refuses what it cannot serve, and a model given twice", () => {
    expect(() => fromVllmArgs(["--task", "generate"], { positionalModel: true, options })).toThrow(
      "edgepool serves pooling models only",
    );
    expect(() => fromVllmArgs(["m", "--model", "n"], { positionalModel: true, options })).toThrow(
      "Give the model once",
    );
  });

  describe("edgepool serve MODEL with vLLM flags", () => {
    let server: RunningServer;
    afterAll(async () => {
      await server?.stop();
    });

    it("serves the positional model with the renamed and underscore flags applied", async () => {
      server = await startServer([
        fixture("bert-embed-cls"),
        "--served-model-name",
        "m",
        "--override-pooler-config",
        '{"pooling_type":"MEAN","use_activation":false}',
        "--task",
        "embed",
        "--trust-remote-code",
        "--hf_overrides",
        '{"is_matryoshka":true}',
      ]);
      expect(server.logs.join("\n")).toContain("--trust-remote-code is accepted and has no effect");
      expect(server.logs.join("\n")).toContain("--task is deprecated");
      const mean = goldenCase("bert-embed-cls", "embed pooling MEAN");
      const raw = await postJson(`${server.url}/v1/embeddings`, {
        input: mean.prompts!.map((p) => p.promptTokenIds),
        use_activation: true,
      });
      const got = raw.body.data.map((d: { embedding: number[] }) => d.embedding);
      expect(maxAbsDiff(got, mean.expected)).toBeLessThan(1e-4);
      // --hf_overrides made the model matryoshka: dimensions are accepted.
      const short = await postJson(`${server.url}/v1/embeddings`, {
        input: "a cat",
        dimensions: 8,
      });
      expect(short.body.data[0].embedding).toHaveLength(8);
    });

    it("underscored flags are read: a bad --pooler_config key stops serve, naming it", async () => {
      const failed = run(process.execPath, [
        BIN,
        "serve",
        fixture("bert-embed-cls"),
        "--port",
        "0",
        "--hf_overrides",
        '{"is_matryoshka":true}',
        "--pooler_config",
        '{"normalise":true}',
      ]);
      await expect(failed).rejects.toMatchObject({
        stdout: expect.stringContaining("Unknown pooler config key 'normalise'"),
      });
    });
  });
});
