import { randomBytes } from "node:crypto";
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LLM } from "../../src/index.js";
import {
  IntegrityError,
  MANIFEST_FILE,
  ModelCache,
  ModelStoreError,
  pinModel,
  resolveModel,
  verifyPinned,
} from "../../src/models/index.js";
import { fixture, maxAbsDiff } from "../helpers/fixtures.js";
import { freePort, S3_ENV, type S3Server, startS3 } from "../helpers/s3.js";

const BUCKET = "models";

describe("bucket pinning through the real AWS SDK and an S3-compatible server", () => {
  let s3: S3Server;
  let port: number;
  let s3dir: string;
  let work: string;
  const saved: Record<string, string | undefined> = {};

  beforeAll(async () => {
    for (const [k, v] of Object.entries(S3_ENV)) {
      saved[k] = process.env[k];
      process.env[k] = v;
    }
    work = mkdtempSync(join(tmpdir(), "edgepool-store-"));
    s3dir = join(work, "s3");
    port = await freePort();
    s3 = await startS3(s3dir, port, BUCKET);
  });
  afterAll(async () => {
    await s3.kill();
    rmSync(work, { recursive: true, force: true });
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  const cache = () => mkdtempSync(join(work, "cache-"));
  const client = () =>
    new S3Client({
      region: "us-east-1",
      endpoint: s3.endpoint,
      forcePathStyle: true,
      requestChecksumCalculation: "WHEN_REQUIRED",
    });

  /** The pinned model, loaded through the bucket, embeds exactly as the local folder does. */
  async function expectSameEmbeddings(uri: string, cacheDir: string, folder: string) {
    const remote = await LLM.load({ model: uri, store: { endpoint: s3.endpoint, cacheDir } });
    const local = await LLM.load({ model: folder });
    try {
      const texts = ["hello world", "a cat sat on the mat"];
      const [a, b] = await Promise.all([remote.embed(texts), local.embed(texts)]);
      expect(
        maxAbsDiff(
          a.map((r) => r.outputs.embedding),
          b.map((r) => r.outputs.embedding),
        ),
      ).toBe(0);
    } finally {
      await remote.close();
      await local.close();
    }
  }

  it("pin → resolve → verify → load → embed equals the local folder", async () => {
    const pinned = await pinModel(fixture("bert-embed-mean"), `s3://${BUCKET}/pinned/`, {
      endpoint: s3.endpoint,
    });
    expect(pinned.uri).toBe(`s3://${BUCKET}/pinned/bert-embed-mean/${pinned.manifestSha256}`);
    expect(pinned.manifest.files.map((f) => f.path)).toContain("onnx/model.onnx");
    expect(pinned.manifest.files.map((f) => f.path)).toContain("1_Pooling/config.json");
    const report = await verifyPinned(pinned.uri, { endpoint: s3.endpoint });
    expect(report.files).toBe(pinned.manifest.files.length);

    const cacheDir = cache();
    const resolved = await resolveModel(pinned.uri, { endpoint: s3.endpoint, cacheDir });
    expect(existsSync(join(resolved.dir, MANIFEST_FILE))).toBe(true);
    await expectSameEmbeddings(pinned.uri, cacheDir, fixture("bert-embed-mean"));
  });

  it("pin --mapped-weights: the graph and a page-aligned data file, the same embeddings", async () => {
    const pinned = await pinModel(fixture("bert-embed-mean"), `s3://${BUCKET}/mapped/`, {
      endpoint: s3.endpoint,
      mappedWeights: true,
    });
    const sizes = new Map(pinned.manifest.files.map((f) => [f.path, f.size]));
    expect(sizes.get("onnx/model.onnx_data")).toBeGreaterThan(sizes.get("onnx/model.onnx")!);
    expect((await verifyPinned(pinned.uri, { endpoint: s3.endpoint })).files).toBe(sizes.size);
    const cacheDir = cache();
    await expectSameEmbeddings(pinned.uri, cacheDir, fixture("bert-embed-mean"));
    // Verified, with its weights external: loaded as pinned, no copy of the loader's own.
    expect(existsSync(join(cacheDir, "mapped-weights"))).toBe(false);
  });

  it("a verified model loads the bytes its manifest covers: no mapped copy unless asked, then a warning", async () => {
    const pinned = await pinModel(fixture("bert-embed-cls"), `s3://${BUCKET}/verified/`, {
      endpoint: s3.endpoint,
    });
    const cacheDir = cache();
    const warnings: string[] = [];
    const load = (mappedWeights?: boolean) =>
      LLM.load({
        model: pinned.uri,
        store: { endpoint: s3.endpoint, cacheDir },
        onWarning: (w) => warnings.push(w),
        ...(mappedWeights === undefined ? {} : { mappedWeights }),
      }).then((llm) => llm.close());
    await load();
    expect(existsSync(join(cacheDir, "mapped-weights"))).toBe(false);
    expect(warnings).toEqual([]);
    await load(true);
    expect(readdirSync(join(cacheDir, "mapped-weights"))).toHaveLength(1);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain("the mapped-weights copy in the cache is not");
  });

  it("two models sharing a tokenizer share its bytes in the cache", async () => {
    const a = await pinModel(fixture("bert-classifier"), `s3://${BUCKET}/share/`, {
      endpoint: s3.endpoint,
    });
    const b = await pinModel(fixture("bert-multilabel"), `s3://${BUCKET}/share/`, {
      endpoint: s3.endpoint,
    });
    const cacheDir = cache();
    await resolveModel(a.uri, { endpoint: s3.endpoint, cacheDir });
    await resolveModel(b.uri, { endpoint: s3.endpoint, cacheDir });
    const tokA = a.manifest.files.find((f) => f.path === "tokenizer.json")!;
    const tokB = b.manifest.files.find((f) => f.path === "tokenizer.json")!;
    expect(tokA.sha256).toBe(tokB.sha256);
    const blobs = readdirSync(join(cacheDir, "blobs", "sha256"));
    const distinct = new Set([...a.manifest.files, ...b.manifest.files].map((f) => f.sha256));
    expect(blobs.sort()).toEqual([...distinct].sort());
  });

  it("a flipped byte in the bucket is refused, naming the file and both hashes", async () => {
    const pinned = await pinModel(fixture("bert-cross-encoder"), `s3://${BUCKET}/flip/`, {
      endpoint: s3.endpoint,
    });
    const entry = pinned.manifest.files.find((f) => f.path === "onnx/model.onnx")!;
    const bytes = Buffer.from(
      await (await import("node:fs/promises")).readFile(
        join(fixture("bert-cross-encoder"), "onnx", "model.onnx"),
      ),
    );
    bytes[Math.floor(bytes.length / 2)]! ^= 0x01;
    const c = client();
    await c.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: `${pinned.uri.slice(`s3://${BUCKET}/`.length)}/onnx/model.onnx`,
        Body: bytes,
      }),
    );
    c.destroy();
    await expect(verifyPinned(pinned.uri, { endpoint: s3.endpoint })).rejects.toThrow(
      IntegrityError,
    );
    const cacheDir = cache();
    const err = await resolveModel(pinned.uri, { endpoint: s3.endpoint, cacheDir }).catch((e) => e);
    expect(err).toBeInstanceOf(IntegrityError);
    expect(err.message).toContain("onnx/model.onnx");
    expect(err.message).toContain(entry.sha256);
    expect(err.path).toBe("onnx/model.onnx");
    expect(existsSync(new ModelCache(cacheDir).blobPath(entry.sha256))).toBe(false);
    await expect(
      LLM.load({ model: pinned.uri, store: { endpoint: s3.endpoint, cacheDir } }),
    ).rejects.toThrow(IntegrityError);
  });

  it("a file changed in the local cache is refused before the session loads", async () => {
    const pinned = await pinModel(fixture("bert-embed-cls"), `s3://${BUCKET}/local/`, {
      endpoint: s3.endpoint,
    });
    const cacheDir = cache();
    const { dir } = await resolveModel(pinned.uri, { endpoint: s3.endpoint, cacheDir });
    writeFileSync(join(dir, "config.json"), "{}");
    await expect(resolveModel(pinned.uri, { endpoint: s3.endpoint, cacheDir })).rejects.toThrow(
      /config\.json does not match/,
    );
  });

  it("a blob found in the cache with other bytes is refused: only unchanged blobs skip the hash", async () => {
    const pinned = await pinModel(fixture("bert-embed-cls"), `s3://${BUCKET}/found/`, {
      endpoint: s3.endpoint,
    });
    const cacheDir = cache();
    await resolveModel(pinned.uri, { endpoint: s3.endpoint, cacheDir });
    // The next fetch re-materializes the folder from blobs it finds by size: one has other bytes.
    const store = new ModelCache(cacheDir);
    rmSync(store.snapshotPath(pinned.manifestSha256), { recursive: true });
    const config = pinned.manifest.files.find((f) => f.path === "config.json")!;
    const blob = readFileSync(store.blobPath(config.sha256));
    blob[0] = blob[0]! ^ 1;
    writeFileSync(store.blobPath(config.sha256), blob);
    const err = await resolveModel(pinned.uri, { endpoint: s3.endpoint, cacheDir }).catch((e) => e);
    expect(err).toBeInstanceOf(IntegrityError);
    expect(err.path).toBe("config.json");
  });

  it("a cached blob unchanged since its hash was checked is not hashed again; a touched one is", async () => {
    const pinned = await pinModel(fixture("bert-embed-cls"), `s3://${BUCKET}/recorded/`, {
      endpoint: s3.endpoint,
    });
    const cacheDir = cache();
    const seen: Array<{ hashed: string[]; unchanged: string[] }> = [];
    const resolve = () =>
      resolveModel(pinned.uri, {
        endpoint: s3.endpoint,
        cacheDir,
        onVerify: (files) => seen.push(files),
      });
    const all = pinned.manifest.files.map((f) => f.path).sort();
    // Downloaded: hashed as the files arrived, none again.
    const { dir } = await resolve();
    expect(seen.pop()).toEqual({ hashed: [], unchanged: [] });
    // A restart on the same cache: every blob as it was recorded.
    await resolve();
    const restart = seen.pop()!;
    expect(restart.hashed).toEqual([]);
    expect(restart.unchanged.sort()).toEqual(all);
    // Touched (the same bytes and modification time; its change time moves): hashed, then recorded.
    const config = pinned.manifest.files.find((f) => f.path === "config.json")!;
    const blob = new ModelCache(cacheDir).blobPath(config.sha256);
    const { atime, mtime } = statSync(blob);
    utimesSync(blob, atime, mtime);
    await resolve();
    expect(seen.pop()!.hashed).toEqual(["config.json"]);
    await resolve();
    expect(seen.pop()!.hashed).toEqual([]);
    // A record of another file: hashed.
    writeFileSync(join(cacheDir, "verified", config.sha256), "1:2:3:4:5");
    await resolve();
    expect(seen.pop()!.hashed).toEqual(["config.json"]);
    // The same files copied out of the cache: no blob of its own, hashed at every load.
    const copy = join(work, "recorded-copy");
    cpSync(dir, copy, { recursive: true, dereference: true });
    for (let i = 0; i < 2; i++) {
      await resolveModel(copy, { cacheDir, onVerify: (files) => seen.push(files) });
      expect(seen.pop()!.hashed.sort()).toEqual(all);
    }
  });

  it("an interrupted download leaves no usable file, and a retry succeeds", async () => {
    const model = join(work, "big-model");
    cpSync(fixture("bert-embed-mean"), model, { recursive: true });
    writeFileSync(join(model, "onnx", "model.onnx_data"), randomBytes(96 * 1024 * 1024));
    const pinned = await pinModel(model, `s3://${BUCKET}/big/`, { endpoint: s3.endpoint });
    const big = pinned.manifest.files.find((f) => f.path === "onnx/model.onnx_data")!;
    const cacheDir = cache();
    const tmp = join(cacheDir, "tmp");
    // Kill the server as soon as the large file starts arriving.
    let killed = false;
    const watcher = setInterval(() => {
      if (!killed && existsSync(tmp) && readdirSync(tmp).some((f) => f.endsWith(".partial"))) {
        killed = true;
        void s3.kill();
      }
    }, 1);
    const err = await resolveModel(pinned.uri, { endpoint: s3.endpoint, cacheDir }).catch((e) => e);
    clearInterval(watcher);
    expect(killed).toBe(true);
    expect(err).toBeInstanceOf(ModelStoreError);
    expect(existsSync(new ModelCache(cacheDir).blobPath(big.sha256))).toBe(false);
    expect(readdirSync(tmp).filter((f) => f.endsWith(".partial"))).toEqual([]);
    expect(existsSync(new ModelCache(cacheDir).snapshotPath(pinned.manifestSha256))).toBe(false);

    s3 = await startS3(s3dir, port, BUCKET);
    const { dir } = await resolveModel(pinned.uri, { endpoint: s3.endpoint, cacheDir });
    expect(existsSync(join(dir, "onnx", "model.onnx_data"))).toBe(true);
    expect(existsSync(new ModelCache(cacheDir).blobPath(big.sha256))).toBe(true);
  }, 120_000);

  it("refuses manifests with unsafe paths before writing anything", async () => {
    const bad = {
      version: 1,
      source: { type: "dir", id: "x", revision: null },
      files: [{ path: "../../escape.txt", size: 1, sha256: "0".repeat(64) }],
    };
    const c = client();
    await c.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: `evil/${MANIFEST_FILE}`,
        Body: JSON.stringify(bad),
      }),
    );
    c.destroy();
    const cacheDir = cache();
    await expect(
      resolveModel(`s3://${BUCKET}/evil`, { endpoint: s3.endpoint, cacheDir }),
    ).rejects.toThrow(/Unsafe manifest path/);
    expect(existsSync(join(cacheDir, "blobs"))).toBe(false);
    expect(existsSync(join(cacheDir, "..", "escape.txt"))).toBe(false);
  });
});

describe("edgepool pin / verify / serve from a bucket (CLI)", () => {
  it("pin prints the URI that serve takes as EDGEPOOL_MODEL_URI; verify checks it", async () => {
    const { execFile } = await import("node:child_process");
    const { promisify } = await import("node:util");
    const { BIN } = await import("../helpers/server.js");
    const { startServer, postJson } = await import("../helpers/server.js");
    const run = promisify(execFile);
    const work = mkdtempSync(join(tmpdir(), "edgepool-cli-"));
    const port = await freePort();
    const s3 = await startS3(join(work, "s3"), port, BUCKET);
    const env = { ...process.env, ...S3_ENV, EDGEPOOL_CACHE_DIR: join(work, "cache") };
    try {
      const pin = await run(
        process.execPath,
        [
          BIN,
          "pin",
          fixture("xlmr-embed"),
          "--to",
          `s3://${BUCKET}/cli/`,
          "--s3-endpoint",
          s3.endpoint,
        ],
        { env },
      );
      const uri = pin.stdout.trim();
      expect(uri).toMatch(new RegExp(`^s3://${BUCKET}/cli/xlmr-embed/[0-9a-f]{64}$`));
      const verify = await run(
        process.execPath,
        [BIN, "verify", uri, "--s3-endpoint", s3.endpoint],
        { env },
      );
      expect(verify.stdout).toContain("ok:");
      const server = await startServer(
        ["--s3-endpoint", s3.endpoint, "--served-model-name", "pinned"],
        { ...env, EDGEPOOL_MODEL_URI: uri },
      );
      try {
        const res = await postJson(`${server.url}/v1/embeddings`, { input: "hello world" });
        expect(res.status).toBe(200);
        expect(res.body.data[0].embedding).toHaveLength(32);
      } finally {
        await server.stop();
      }
      const bad = await run(
        process.execPath,
        [BIN, "verify", `s3://${BUCKET}/cli/nothing`, "--s3-endpoint", s3.endpoint],
        { env },
      ).catch((e) => e);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain("edgepool.manifest.json");
    } finally {
      await s3.kill();
      rmSync(work, { recursive: true, force: true });
    }
  }, 60_000);
});
