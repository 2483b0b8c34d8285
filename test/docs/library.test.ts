import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixture } from "../helpers/fixtures.js";
import { type HubStandIn, hubStandIn } from "../helpers/hub.js";
import { lockRegistry } from "../helpers/registry.js";
import { commands, docBlock, runSh, runTs, substitute } from "./blocks.js";

// The README's way to use the library before it is on npm, as a user does it: pack this checkout,
// install the tarball into an empty project (against a stand-in registry holding
// package-lock.json's versions; npm takes the tarballs from its cache), then run the snippets
// there, the models they name served by a local Hub stand-in.
describe("the library from a packed tarball, and its snippets", { timeout: 300_000 }, () => {
  const scratch = mkdtempSync(join(tmpdir(), "edgepool-library-doc-"));
  const project = join(scratch, "project");
  let hub: HubStandIn;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    hub = await hubStandIn({
      "sentence-transformers/all-MiniLM-L6-v2": fixture("bert-embed-mean"),
      "cross-encoder/ms-marco-MiniLM-L6-v2": fixture("bert-cross-encoder"),
      "Xenova/distilbert-base-uncased-finetuned-sst-2-english": fixture("bert-classifier"),
    });
    env = { HF_ENDPOINT: hub.endpoint, EDGEPOOL_CACHE_DIR: join(scratch, "cache") };
  });
  afterAll(async () => {
    await hub?.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  it("npm pack, then npm install of the tarball in an empty project", async () => {
    const [pack, install] = commands(docBlock("README.md", "pack"));
    expect(pack).toBe("npm pack");
    // npm test has built dist/: packing without the prepare script leaves it as it is for the
    // other tests running meanwhile.
    const packed = await runSh(`${pack} --ignore-scripts --pack-destination ${scratch}`);
    expect(packed.code, packed.stderr).toBe(0);
    expect(packed.stdout.trim().split("\n").at(-1)).toBe("edgepool-0.1.0.tgz");
    const registry = await lockRegistry();
    try {
      const tgz = join(scratch, "edgepool-0.1.0.tgz");
      mkdirSync(project);
      writeFileSync(join(project, "package.json"), '{ "private": true }\n');
      const r = await runSh(substitute(install!, { "/path/to/edgepool-0.1.0.tgz": tgz }), {
        cwd: project,
        env: {
          npm_config_registry: `${registry.url}/`,
          npm_config_audit: "false",
          npm_config_fund: "false",
          npm_config_update_notifier: "false",
        },
      });
      expect(r.code, r.stderr).toBe(0);
    } finally {
      await registry.close();
    }
  });

  it("README: load the default model, embed and score", async () => {
    const r = await runTs(docBlock("README.md", "library"), project, env);
    expect(r.code, r.stderr).toBe(0);
    const [tasks, sizes, scores] = r.stdout.trim().split("\n");
    expect(tasks).toBe("[ 'embed', 'token_embed', 'score' ]");
    expect(sizes).toMatch(/^32 \d+$/);
    expect(JSON.parse(scores!.replaceAll("'", '"'))).toHaveLength(2);
  });

  it("docs/library.md: an embedding model's methods", async () => {
    const r = await runTs(docBlock("docs/library.md", "embedder"), project, env);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines[0]).toBe("[ 'embed', 'token_embed', 'score' ]");
    expect(lines[1]).toMatch(/^32 \d+$/);
    expect(Number(lines[2])).toBeGreaterThan(1);
    expect(lines[3]).toBe("true 3");
    expect(lines).toHaveLength(5);
  });

  it("docs/library.md: a cross-encoder scores, a classifier classifies", async () => {
    const r = await runTs(docBlock("docs/library.md", "cross-encoder"), project, env);
    expect(r.code, r.stderr).toBe(0);
    const [scores, probs] = r.stdout.trim().split("\n");
    expect(JSON.parse(scores!)).toHaveLength(2);
    const p = JSON.parse(probs!) as number[];
    expect(p).toHaveLength(3);
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
  });

  it("docs/library.md: a process reward model, per step", async () => {
    const dir = join(project, "qwen2.5-math-prm-onnx");
    cpSync(fixture("qwen2-prm"), dir, { recursive: true });
    const r = await runTs(docBlock("docs/library.md", "reward"), project, env);
    expect(r.code, r.stderr).toBe(0);
    const steps = JSON.parse(r.stdout) as number[][];
    expect(steps).toHaveLength(2);
    for (const s of steps) expect(s).toHaveLength(2);
  });
});
