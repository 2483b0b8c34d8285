import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LLM } from "../../src/index.js";
import { listFiles } from "../../src/models/files.js";
import {
  MANIFEST_FILE,
  ModelStoreError,
  parseHubRef,
  parseManifest,
  resolveModel,
} from "../../src/models/index.js";
import { fixture, maxAbsDiff } from "../helpers/fixtures.js";
import { freePort } from "../helpers/s3.js";
import { startServer } from "../helpers/server.js";

const COMMIT = "0123456789abcdef0123456789abcdef01234567";
/** The commit `main` moves to: the same files but config.json. */
const COMMIT2 = "89abcdef0123456789abcdef0123456789abcdef";
const MODEL_DIR = fixture("bert-embed-mean");

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

interface HubStandIn {
  server: Server;
  endpoint: string;
  /** Every request's path and query, in order. */
  seen: IncomingMessage[];
  /** Where each branch points. */
  refs: Record<string, string>;
}

/**
 * A local stand-in for the Hub's HTTP API: revision listing (with `blobs=true` sizes and LFS
 * sha256), resolve URLs by commit, large files redirected to a CDN path, 404s.
 */
async function hubServer(): Promise<HubStandIn> {
  // An int8 graph beside the fp32 one, as on the Hub (its bytes do not matter here).
  const files = [...(await listFiles(MODEL_DIR)), "onnx/model_quantized.onnx"];
  const content = (commit: string, path: string): Buffer | null => {
    if (!files.includes(path) || (commit !== COMMIT && commit !== COMMIT2)) return null;
    if (path === "onnx/model_quantized.onnx") return Buffer.from("int8 graph");
    const body = readFileSync(join(MODEL_DIR, path));
    if (commit === COMMIT2 && path === "config.json") {
      return Buffer.from(JSON.stringify({ ...JSON.parse(body.toString()), _revision: 2 }));
    }
    return body;
  };
  const hub: Omit<HubStandIn, "server" | "endpoint"> = { seen: [], refs: { main: COMMIT } };
  const server = createServer((req, res) => {
    hub.seen.push(req);
    const url = new URL(req.url!, "http://x");
    const listing = /^\/api\/models\/acme\/tiny-embed\/revision\/([^/]+)$/.exec(url.pathname);
    const commit = listing ? (hub.refs[listing[1]!] ?? listing[1]!) : null;
    if (commit === COMMIT || commit === COMMIT2) {
      const blobs = url.searchParams.get("blobs") === "true";
      const siblings = [...files, "README.md"].map((rfilename) => {
        const body = content(commit, rfilename) ?? Buffer.from("# readme");
        const lfs = rfilename.endsWith(".onnx")
          ? { sha256: sha256(body), size: body.length }
          : null;
        return { rfilename, ...(blobs ? { size: body.length, ...(lfs ? { lfs } : {}) } : {}) };
      });
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ id: "acme/tiny-embed", sha: commit, siblings }));
      return;
    }
    const resolve = /^\/acme\/tiny-embed\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
    const body = resolve ? content(resolve[1]!, resolve[2]!) : null;
    if (resolve && body) {
      if (resolve[2]!.endsWith(".onnx")) {
        // Large files redirect to a CDN, with their sha256 as the linked ETag.
        res.statusCode = 302;
        res.setHeader("x-linked-etag", `"${sha256(body)}"`);
        res.setHeader("location", `/cdn/${resolve[1]}/${resolve[2]}`);
        res.end();
        return;
      }
      res.end(body);
      return;
    }
    const cdn = /^\/cdn\/([^/]+)\/(.+)$/.exec(url.pathname);
    const cdnBody = cdn ? content(cdn[1]!, cdn[2]!) : null;
    if (cdnBody) {
      res.setHeader("etag", `"${sha256(cdnBody)}"`);
      res.end(cdnBody);
      return;
    }
    res.statusCode = 404;
    res.end(JSON.stringify({ error: "Repository not found" }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return Object.assign(hub, { server, endpoint });
}

/** Requests per path: model-file downloads (resolve URLs and the CDN) and revision listings. */
function counts(seen: readonly IncomingMessage[]) {
  const paths = seen.map((r) => new URL(r.url!, "http://x").pathname);
  const downloads = paths.filter((p) => p.includes("/resolve/") || p.startsWith("/cdn/"));
  return {
    downloads,
    listings: paths.filter((p) => p.startsWith("/api/models/")).length,
    of: (file: string) => downloads.filter((p) => p.endsWith(`/${file}`)).length,
  };
}

describe("Hub download", () => {
  let hub: HubStandIn;
  let cacheDir: string;

  beforeAll(async () => {
    hub = await hubServer();
    cacheDir = mkdtempSync(join(tmpdir(), "edgepool-hub-"));
  });
  afterAll(() => {
    hub.server.close();
    rmSync(cacheDir, { recursive: true, force: true });
  });

  it("downloads the files a model needs at a revision, with HF_TOKEN, and pins them by sha256", async () => {
    const resolved = await resolveModel("acme/tiny-embed", {
      cacheDir,
      hub: { endpoint: hub.endpoint, token: "hf_secret" },
    });
    const manifest = parseManifest(readFileSync(join(resolved.dir, MANIFEST_FILE), "utf8"));
    expect(manifest.source).toEqual({ type: "hub", id: "acme/tiny-embed", revision: COMMIT });
    expect(manifest.files.map((f) => f.path)).not.toContain("README.md");
    expect(manifest.files.map((f) => f.path)).toContain("onnx/model.onnx");
    const resolveRequests = hub.seen.filter((r) => r.url?.includes("/resolve/"));
    expect(resolveRequests.length).toBe(manifest.files.length);
    expect(resolveRequests.every((r) => r.headers.authorization === "Bearer hf_secret")).toBe(true);
    expect(counts(hub.seen).of("model.onnx")).toBe(2); // the resolve URL, then the CDN

    const fromHub = await LLM.load({
      model: "acme/tiny-embed",
      store: { cacheDir, hub: { endpoint: hub.endpoint } },
    });
    const local = await LLM.load({ model: MODEL_DIR });
    try {
      const [a] = await fromHub.embed("hello world");
      const [b] = await local.embed("hello world");
      expect(maxAbsDiff(a!.outputs.embedding, b!.outputs.embedding)).toBe(0);
    } finally {
      await fromHub.close();
      await local.close();
    }
  });

  it("a cached revision starts again with one listing request and no file downloads", async () => {
    hub.seen.length = 0;
    const again = await resolveModel("acme/tiny-embed", {
      cacheDir,
      hub: { endpoint: hub.endpoint },
    });
    expect(again.manifest?.source.revision).toBe(COMMIT);
    const llm = await LLM.load({
      model: "acme/tiny-embed",
      store: { cacheDir, hub: { endpoint: hub.endpoint } },
    });
    try {
      expect((await llm.embed("hello world"))[0]!.outputs.embedding.length).toBeGreaterThan(0);
    } finally {
      await llm.close();
    }
    const c = counts(hub.seen);
    expect(c.listings).toBe(2);
    expect(c.downloads).toEqual([]);
  });

  it("a commit given as the revision, once cached, starts without any request", async () => {
    hub.seen.length = 0;
    const pinned = await resolveModel(`acme/tiny-embed@${COMMIT}`, {
      cacheDir,
      hub: { endpoint: hub.endpoint },
    });
    expect(pinned.manifest?.source.revision).toBe(COMMIT);
    expect(hub.seen.map((r) => r.url)).toEqual([]);
  });

  it("each dtype has its own cached snapshot: neither replaces the other, online or offline", async () => {
    const q8 = await resolveModel("acme/tiny-embed", {
      cacheDir,
      dtype: "q8",
      hub: { endpoint: hub.endpoint },
    });
    const paths = (r: typeof q8) => r.manifest!.files.map((f) => f.path);
    expect(paths(q8)).toContain("onnx/model_quantized.onnx");
    expect(paths(q8)).not.toContain("onnx/model.onnx");
    hub.seen.length = 0;
    const fp32 = await resolveModel("acme/tiny-embed", {
      cacheDir,
      hub: { endpoint: hub.endpoint },
    });
    expect(paths(fp32)).toContain("onnx/model.onnx");
    expect(counts(hub.seen).downloads).toEqual([]);
    const closed = `http://127.0.0.1:${await freePort()}`;
    for (const dtype of ["q8", "fp32"] as const) {
      const offline = await resolveModel("acme/tiny-embed", {
        cacheDir,
        dtype,
        hub: { endpoint: closed },
      });
      expect(offline.onnxFile ?? "onnx/model.onnx").toBe(
        dtype === "q8" ? "onnx/model_quantized.onnx" : "onnx/model.onnx",
      );
      expect(paths(offline)).toContain(offline.onnxFile ?? "onnx/model.onnx");
    }
  });

  it("a missing repository or revision is a clear error", async () => {
    await expect(
      resolveModel("acme/nope", { cacheDir, hub: { endpoint: hub.endpoint } }),
    ).rejects.toThrow(/acme\/nope@main was not found on the Hub/);
    await expect(
      resolveModel("acme/tiny-embed@v9", { cacheDir, hub: { endpoint: hub.endpoint } }),
    ).rejects.toThrow(/not found/);
  });

  it("without network, a cached revision is used and an uncached one fails fast with what to do", async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const notes: string[] = [];
    const cached = await resolveModel("acme/tiny-embed", {
      cacheDir,
      hub: { endpoint: closed },
      log: (m) => notes.push(m),
    });
    expect(cached.manifest?.source.revision).toBe(COMMIT);
    expect(notes.join("\n")).toContain(`using the cached acme/tiny-embed@main (commit ${COMMIT})`);
    const start = performance.now();
    const err = await resolveModel("acme/other", { cacheDir, hub: { endpoint: closed } }).catch(
      (e) => e,
    );
    expect(performance.now() - start).toBeLessThan(5000);
    expect(err).toBeInstanceOf(ModelStoreError);
    expect(err.message).toContain("is not in the cache");
    expect(err.message).toContain("edgepool pin");
  });

  it("a moved ref fetches the new commit (the files the cache lacks), then starts without downloads", async () => {
    hub.refs.main = COMMIT2;
    try {
      hub.seen.length = 0;
      const moved = await resolveModel("acme/tiny-embed", {
        cacheDir,
        hub: { endpoint: hub.endpoint },
      });
      expect(moved.manifest?.source.revision).toBe(COMMIT2);
      expect(JSON.parse(readFileSync(join(moved.dir, "config.json"), "utf8"))._revision).toBe(2);
      const first = counts(hub.seen);
      expect(first.downloads).toContain(`/acme/tiny-embed/resolve/${COMMIT2}/config.json`);
      // The graph's sha256 (from the listing) is already in the cache: not downloaded again.
      expect(first.of("model.onnx")).toBe(0);

      hub.seen.length = 0;
      await resolveModel("acme/tiny-embed", { cacheDir, hub: { endpoint: hub.endpoint } });
      await resolveModel(`acme/tiny-embed@${COMMIT}`, {
        cacheDir,
        hub: { endpoint: hub.endpoint },
      });
      expect(counts(hub.seen).downloads).toEqual([]);

      const closed = `http://127.0.0.1:${await freePort()}`;
      const offline = await resolveModel("acme/tiny-embed", {
        cacheDir,
        hub: { endpoint: closed },
      });
      expect(offline.manifest?.source.revision).toBe(COMMIT2);
    } finally {
      hub.refs.main = COMMIT;
    }
  });

  it("edgepool serve: the first start logs download progress; a restart downloads no model file", async () => {
    const cache = mkdtempSync(join(tmpdir(), "edgepool-hub-serve-"));
    const args = ["--model", "acme/tiny-embed", "--cache-dir", cache];
    const env = { HF_ENDPOINT: hub.endpoint };
    try {
      hub.seen.length = 0;
      const first = await startServer(args, env);
      await first.stop();
      expect(counts(hub.seen).of("model.onnx")).toBe(2);
      const lines = first.logs.map((l) => {
        try {
          return (JSON.parse(l) as { msg?: string }).msg ?? "";
        } catch {
          return "";
        }
      });
      // Off a terminal: a start line with the size, then a summary with the rate.
      expect(lines).toContainEqual(
        expect.stringMatching(/^acme\/tiny-embed@0123456: downloading \d+\.\d kB$/),
      );
      expect(lines).toContainEqual(
        expect.stringMatching(/^acme\/tiny-embed@0123456: \d+\.\d kB in \d+\.\d s \(.+\/s\)$/),
      );

      hub.seen.length = 0;
      const second = await startServer(args, env);
      await second.stop();
      const c = counts(hub.seen);
      expect(c.listings).toBe(1);
      expect(c.downloads).toEqual([]);
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });
});

describe("path safety", () => {
  it("rejects model ids and revisions that look like paths or hold odd characters", () => {
    for (const bad of [
      "../x",
      "org/../x",
      "org/name/extra",
      "org/na me",
      "org/name@../../x",
      "org/.hidden",
      "org/name@a@b",
      "org/name;rm",
    ]) {
      expect(() => parseHubRef(bad), bad).toThrow(ModelStoreError);
    }
    expect(parseHubRef("sentence-transformers/all-MiniLM-L6-v2@main")).toEqual({
      id: "sentence-transformers/all-MiniLM-L6-v2",
      revision: "main",
    });
  });

  it("rejects manifest paths with .., absolute paths or odd characters", () => {
    const make = (path: string) =>
      JSON.stringify({
        version: 1,
        source: { type: "dir", id: "x", revision: null },
        files: [{ path, size: 1, sha256: "a".repeat(64) }],
      });
    for (const bad of ["../x", "/etc/passwd", "a/../../b", "a//b", "a\\b", "a/./b", "x y", ""]) {
      expect(() => parseManifest(make(bad)), bad).toThrow(/Unsafe manifest path/);
    }
    expect(parseManifest(make("onnx/model.onnx")).files).toHaveLength(1);
  });

  it("a path that does not exist is not mistaken for a Hub id", async () => {
    await expect(resolveModel("./no/such/folder")).rejects.toThrow(/does not exist/);
    await expect(resolveModel("/no/such/folder")).rejects.toThrow(/does not exist/);
  });
});
