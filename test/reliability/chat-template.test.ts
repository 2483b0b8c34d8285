import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixture } from "../helpers/fixtures.js";
import { postJson, type RunningServer, startServer } from "../helpers/server.js";

const SIMPLE = "{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}";
// 77 bytes that loop 25 million times: seconds of event loop before the fix on any machine (4
// million took 13.5 s on a slow one and 2.6 s on a fast one), far past the 1 s limit below.
const LOOP = "{% for i in range(5000) %}{% for j in range(5000) %}{% endfor %}{% endfor %}";
const MEMORY = "{% set x = range(3000000) %}{{ x | length }}";
const messages = [{ role: "user", content: "a cat" }];

describe("chat templates that come with a request", () => {
  let strict: RunningServer;
  let trusting: RunningServer;
  beforeAll(async () => {
    [strict, trusting] = await Promise.all([
      startServer(["--model", fixture("bert-embed-mean")]),
      startServer([
        "--model",
        fixture("bert-embed-mean"),
        "--trust-request-chat-template",
        "--chat-template-timeout",
        "1000",
      ]),
    ]);
  });
  afterAll(async () => {
    await Promise.all([strict.stop(), trusting.stop()]);
  });

  it.each(["/pooling", "/v1/embeddings", "/tokenize"])(
    "%s refuses chat_template unless --trust-request-chat-template (as vLLM)",
    async (path) => {
      const res = await postJson(`${strict.url}${path}`, { messages, chat_template: SIMPLE });
      expect(res.status).toBe(400);
      expect(res.body.error.param).toBe("chat_template");
      expect(res.body.error.message).toMatch(/--trust-request-chat-template is not set/);
    },
  );

  it("renders a trusted template", async () => {
    const res = await postJson(`${trusting.url}/tokenize`, {
      messages,
      chat_template: SIMPLE,
      return_token_strs: true,
    });
    expect(res.status).toBe(200);
    const plain = await postJson(`${trusting.url}/tokenize`, {
      prompt: "user: a cat\n",
      add_special_tokens: false,
    });
    expect(res.body.tokens).toEqual(plain.body.tokens);
  });

  it.each([
    ["a loop", LOOP],
    ["a huge list", MEMORY],
  ])("bounds a trusted template with %s (400, server alive)", async (_, template) => {
    const res = await postJson(`${trusting.url}/tokenize`, { messages, chat_template: template });
    expect(res.status).toBe(400);
    expect(res.body.error.param).toBe("chat_template");
    const health = await fetch(`${trusting.url}/health`);
    expect(health.status).toBe(200);
    const ok = await postJson(`${trusting.url}/embed`, { inputs: "a cat" });
    expect(ok.status).toBe(200);
  });
});
