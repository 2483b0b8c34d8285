import { describe, expect, it } from "vitest";
import { createApp, ModelHost } from "../../src/api/index.js";
import { runCli } from "../helpers/cli.js";
import { fixture } from "../helpers/fixtures.js";

const model = ["--model", fixture("bert-embed-mean"), "--host", "127.0.0.1", "--port", "0"];

describe("static API keys", () => {
  it.each([[""], ["   "], [" padded "]])("serve refuses --api-key %j at start-up", async (key) => {
    const r = await runCli(["serve", ...model, "--api-key", key]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--api-key must not/);
    expect(r.stdout).not.toMatch(/"listening"/);
  });

  it("serve refuses EDGEPOOL_API_KEYS that holds no key", async () => {
    const r = await runCli(["serve", ...model], { EDGEPOOL_API_KEYS: " , ," });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/EDGEPOOL_API_KEYS holds no key/);
  });

  it("createApp refuses an empty key instead of serving without auth", () => {
    expect(() => createApp(new ModelHost(["m"]), { apiKeys: [""] })).toThrow(/must not be empty/);
    expect(() => createApp(new ModelHost(["m"]), { apiKeys: ["ok", " "] })).toThrow(
      /must not be empty/,
    );
  });
});
