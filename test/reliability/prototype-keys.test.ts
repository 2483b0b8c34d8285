import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyHfOverrides, parsePoolerConfig } from "../../src/core/index.js";
import { runCli } from "../helpers/cli.js";
import { fixture } from "../helpers/fixtures.js";
import { postJson, type RunningServer, startServer } from "../helpers/server.js";

const PROTO_KEYS = ["constructor", "__proto__", "toString", "hasOwnProperty", "valueOf"];

describe("user-supplied keys are looked up as own properties only", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer(["--model", fixture("bert-embed-mean")]);
  });
  afterAll(async () => {
    await server.stop();
  });

  it.each(PROTO_KEYS)("/v2/embed input_type %j embeds the text as it is", async (key) => {
    const plain = await postJson(`${server.url}/v2/embed`, { texts: ["a cat"] });
    const res = await postJson(`${server.url}/v2/embed`, { texts: ["a cat"], input_type: key });
    expect(res.status).toBe(200);
    expect(res.body.embeddings.float).toEqual(plain.body.embeddings.float);
  });

  it.each(PROTO_KEYS)("TEI prompt_name %j is an unknown prompt (422, TEI's shape)", async (key) => {
    const res = await postJson(`${server.url}/embed`, { inputs: "a cat", prompt_name: key });
    expect(res.status).toBe(422);
    expect(res.body.error_type).toBe("Validation");
    expect(res.body.error).toMatch(/Unknown prompt_name/);
  });

  it("a known prompt name still selects its prompt", async () => {
    const query = await postJson(`${server.url}/embed`, { inputs: "a cat", prompt_name: "query" });
    const direct = await postJson(`${server.url}/embed`, { inputs: "query: a cat" });
    expect(query.status).toBe(200);
    expect(query.body).toEqual(direct.body);
  });

  it("the CLI treats a command named like a prototype key as unknown", async () => {
    const r = await runCli(["constructor"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Unknown command 'constructor'/);
  });

  it("config merging and pooler configs never touch prototypes", () => {
    const merged = applyHfOverrides({ a: 1 }, JSON.parse('{"__proto__":{"polluted":true}}'));
    expect(Object.getPrototypeOf(merged)).toBe(Object.prototype);
    expect((merged as Record<string, unknown>).polluted).toBeUndefined();
    // Keys named like prototype members are unknown keys, refused by name.
    expect(() => parsePoolerConfig(JSON.parse('{"constructor":1}'))).toThrow(
      "Unknown pooler config key 'constructor'",
    );
    expect(() => parsePoolerConfig(JSON.parse('{"__proto__":{"x":1}}'))).toThrow(
      "Unknown pooler config key '__proto__'",
    );
  });
});
