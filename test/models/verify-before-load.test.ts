import { randomBytes } from "node:crypto";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LLM } from "../../src/index.js";
import { IntegrityError, MANIFEST_FILE, verifyFolder } from "../../src/models/index.js";
import { buildManifest, type Manifest, manifestText } from "../../src/models/manifest.js";
import { fixture } from "../helpers/fixtures.js";

const FILES = [
  "config.json",
  "tokenizer.json",
  "tokenizer_config.json",
  "modules.json",
  "1_Pooling/config.json",
  "onnx/model.onnx",
];

describe("a verified model folder is checked before anything reads it", () => {
  let work: string;
  let model: string;
  let manifest: Manifest;

  const copy = (name: string) => {
    const dir = join(work, name);
    cpSync(model, dir, { recursive: true });
    return dir;
  };

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), "edgepool-verify-"));
    model = join(work, "model");
    cpSync(fixture("bert-embed-mean"), model, { recursive: true });
    manifest = await buildManifest(model, FILES, { type: "dir", id: "m", revision: null });
    writeFileSync(join(model, MANIFEST_FILE), manifestText(manifest));
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it("a changed graph is refused before ONNX Runtime reads it", async () => {
    const dir = copy("changed-graph");
    const graph = join(dir, "onnx", "model.onnx");
    // Not a graph at all: had ONNX Runtime parsed it first, its protobuf error would come instead.
    writeFileSync(graph, randomBytes(readFileSync(graph).length));
    const err = await LLM.load({ model: dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IntegrityError);
    expect((err as IntegrityError).path).toBe("onnx/model.onnx");
  });

  it("files named as already hashed are not read again; the others are", async () => {
    const dir = copy("changed-config");
    writeFileSync(join(dir, "config.json"), "{}");
    await expect(verifyFolder(dir, manifest)).rejects.toThrow(/config\.json does not match/);
    await expect(
      verifyFolder(dir, manifest, { skip: new Set(["config.json"]) }),
    ).resolves.toBeUndefined();
  });
});
