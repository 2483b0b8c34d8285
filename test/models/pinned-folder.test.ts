import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { manifestText } from "../../src/models/manifest.js";
import { resolveModel } from "../../src/models/resolve.js";
import { pinFolder } from "../helpers/edge.js";
import { fixture } from "../helpers/fixtures.js";

// A pinned prefix mounted as a folder (Cloud Run's /weights/<manifest-sha256>) is checked
// against the sha256 in its name before anything loads.
describe("a folder named by its pin", () => {
  const root = mkdtempSync(join(tmpdir(), "edgepool-pinned-"));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  async function mount(name: (sha: string) => string, withManifest = true) {
    const { manifest, prefix } = await pinFolder(fixture("bert-embed-mean"), "m");
    const sha = prefix.split("/")[1]!;
    const dir = join(root, name(sha));
    cpSync(fixture("bert-embed-mean"), dir, { recursive: true });
    if (withManifest) writeFileSync(join(dir, "edgepool.manifest.json"), manifestText(manifest));
    return dir;
  }

  it("loads when the manifest is that pin", async () => {
    const dir = await mount((sha) => sha);
    expect((await resolveModel(dir)).dir).toBe(dir);
  });

  it("refuses another pin's manifest, or none", async () => {
    const other = "0".repeat(64);
    await expect(resolveModel(await mount(() => other))).rejects.toThrow(
      `expected manifest sha256 ${other}, got`,
    );
    const bare = await mount(() => "f".repeat(64), false);
    await expect(resolveModel(bare)).rejects.toThrow(
      /is named as a pin .* but holds no edgepool\.manifest\.json/,
    );
  });
});
