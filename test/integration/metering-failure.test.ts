import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Store } from "../../src/store/index.js";
import { fixture } from "../helpers/fixtures.js";
import { postJson, type RunningServer, startServer } from "../helpers/server.js";
import { type TestBackend, testBackends } from "../helpers/stores.js";

const backends = await testBackends();

// The ledger table disappears under a running server: its rows cannot be written.
describe.each(backends)("a ledger that cannot be written, on $name", (backend: TestBackend) => {
  let server: RunningServer;
  let store: Store;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    if (backend.unavailable) return;
    const created = await backend.create();
    drop = created.drop;
    server = await startServer(
      ["--model", fixture("bert-embed-mean"), "--store", created.spec, "--api-key", "k"],
      { EDGEPOOL_STORE: "", DATABASE_URL: "" },
    );
    store = await created.open();
  });
  afterAll(async () => {
    if (backend.unavailable) return;
    await server?.stop();
    await store?.close();
    await drop();
  });

  it.skipIf(backend.unavailable)(
    "an answer whose row cannot be committed is a 503, never released unbilled",
    async () => {
      const auth = { authorization: "Bearer k" };
      expect((await postJson(`${server.url}/v1/embeddings`, { input: "a" }, auth)).status).toBe(
        200,
      );
      await store.db.run("DROP TABLE usage_ledger");
      const r = await postJson(`${server.url}/v1/embeddings`, { input: "b" }, auth);
      expect(r.status).toBe(503);
      expect(r.body.error.message).toMatch(/usage could not be recorded; it was not billed/);
      expect(r.body).not.toHaveProperty("data");
      // An error answer is not billable: it is answered as it was.
      const bad = await postJson(`${server.url}/v1/embeddings`, { input: "" }, auth);
      expect(bad.status).toBe(400);
    },
  );
});
