import { randomBytes } from "node:crypto";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LLM } from "../../src/index.js";
import { IntegrityError, MANIFEST_FILE } from "../../src/models/index.js";
import {
  BACKGROUND_HASH_BYTES,
  buildManifest,
  type Manifest,
  manifestText,
  verifyFolderStaged,
} from "../../src/models/manifest.js";
import { fixture, maxAbsDiff } from "../helpers/fixtures.js";

/**
 * An ONNX graph made larger than the background threshold by an unknown protobuf field (number
 * 1000, ignored by ONNX Runtime): the same model, hashed on a worker thread when verified.
 */
function padded(graph: Buffer): Buffer {
  const size = BACKGROUND_HASH_BYTES + 1024;
  const varint = (n: number) => {
    const out: number[] = [];
    for (; n > 0x7f; n = Math.floor(n / 128)) out.push((n % 128) | 0x80);
    out.push(n);
    return Buffer.from(out);
  };
  return Buffer.concat([graph, varint((1000 << 3) | 2), varint(size), Buffer.alloc(size)]);
}

const FILES = [
  "config.json",
  "tokenizer.json",
  "tokenizer_config.json",
  "modules.json",
  "1_Pooling/config.json",
  "onnx/model.onnx",
];

describe("verifying a model: its large ONNX files on a worker thread, the rest at once", () => {
  let work: string;
  let model: string;
  let manifest: Manifest;

  /** A copy of the verified model folder, to change. */
  const copy = (name: string) => {
    const dir = join(work, name);
    cpSync(model, dir, { recursive: true });
    return dir;
  };

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), "edgepool-verify-"));
    model = join(work, "model");
    cpSync(fixture("bert-embed-mean"), model, { recursive: true });
    const graph = join(model, "onnx", "model.onnx");
    writeFileSync(graph, padded(readFileSync(graph)));
    manifest = await buildManifest(model, FILES, { type: "dir", id: "m", revision: null });
    writeFileSync(join(model, MANIFEST_FILE), manifestText(manifest));
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it("a verified model whose graph is hashed in the background embeds as the original", async () => {
    const verified = await LLM.load({ model });
    const original = await LLM.load({ model: fixture("bert-embed-mean") });
    try {
      const texts = ["hello world", "a cat sat on the mat"];
      const [a, b] = await Promise.all([verified.embed(texts), original.embed(texts)]);
      expect(
        maxAbsDiff(
          a.map((r) => r.outputs.embedding),
          b.map((r) => r.outputs.embedding),
        ),
      ).toBe(0);
    } finally {
      await verified.close();
      await original.close();
    }
  });

  it("a changed graph is refused before ONNX Runtime reads it", async () => {
    const dir = copy("changed-graph");
    const graph = join(dir, "onnx", "model.onnx");
    // Not a graph at all: had ONNX Runtime parsed it first, its protobuf error would come instead.
    writeFileSync(graph, randomBytes(readFileSync(graph).length));
    const staged = await verifyFolderStaged(dir, manifest);
    await expect(staged.large).rejects.toThrow(IntegrityError);
    const err = await LLM.load({ model: dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IntegrityError);
    expect((err as IntegrityError).path).toBe("onnx/model.onnx");
  });

  it("a changed small file is refused before anything is returned; skipped files are not read", async () => {
    const dir = copy("changed-config");
    writeFileSync(join(dir, "config.json"), "{}");
    await expect(verifyFolderStaged(dir, manifest)).rejects.toThrow(/config\.json does not match/);
    const skipped = await verifyFolderStaged(dir, manifest, { skip: new Set(["config.json"]) });
    await expect(skipped.large).resolves.toBeUndefined();
  });

  it("a large file that is not an ONNX file (read by this process) is checked at once", async () => {
    const dir = copy("large-safetensors");
    const heads = Buffer.alloc(BACKGROUND_HASH_BYTES + 1);
    writeFileSync(join(dir, "sparse_linear.safetensors"), heads);
    const files = [...FILES, "sparse_linear.safetensors"];
    const withHeads = await buildManifest(dir, files, { type: "dir", id: "m", revision: null });
    heads[0] = 1;
    writeFileSync(join(dir, "sparse_linear.safetensors"), heads);
    await expect(verifyFolderStaged(dir, withHeads)).rejects.toThrow(
      /sparse_linear\.safetensors does not match/,
    );
  });
});
