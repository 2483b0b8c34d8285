import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Store } from "../../src/store/index.js";
import { fixture } from "../helpers/fixtures.js";
import { until } from "../helpers/receiver.js";
import { startServer } from "../helpers/server.js";
import { type TestBackend, testBackends } from "../helpers/stores.js";
import { report, size } from "./mode.js";

const backends = await testBackends();

describe.each(backends)("kill -9 under a stream of requests, on $name", (backend: TestBackend) => {
  let spec: string;
  let open: () => Promise<Store>;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    if (backend.unavailable) return;
    ({ spec, open, drop } = await backend.create());
  });
  afterAll(async () => {
    if (backend.unavailable) return;
    await drop();
  });

  it.skipIf(backend.unavailable)(
    "every answered request has its ledger row",
    async () => {
      const concurrency = 8;
      const answeredBeforeKill = size(40, 400);
      const server = await startServer(
        ["--model", fixture("bert-embed-mean"), "--store", spec, "--api-key", "k"],
        { EDGEPOOL_STORE: "", DATABASE_URL: "" },
      );
      const answered: string[] = [];
      let sent = 0;
      let killed = false;
      const client = async (c: number) => {
        const deadline = Date.now() + 60_000;
        while (!killed && Date.now() < deadline) {
          const id = `kill-ledger-${c}-${++sent}`;
          try {
            const res = await fetch(`${server.url}/v1/embeddings`, {
              method: "POST",
              headers: {
                "content-type": "application/json",
                authorization: "Bearer k",
                "x-request-id": id,
              },
              body: JSON.stringify({ input: `sentence ${id}` }),
            });
            const body = await res.text();
            if (res.status === 200 && JSON.parse(body).usage && !killed) {
              answered.push(id);
              // Killed the moment an answer is in: its row must already be committed.
              if (answered.length === answeredBeforeKill) {
                server.proc.kill("SIGKILL");
                killed = true;
              }
            }
          } catch {
            // The server died while this request was under way: never answered.
          }
        }
      };
      const clients = Array.from({ length: concurrency }, (_, c) => client(c));
      await Promise.all(clients);
      await until(() =>
        server.proc.exitCode !== null || server.proc.signalCode ? true : undefined,
      );

      const store = await open();
      const rows = new Map<string, number>();
      for await (const r of store.ledger.rows(0, Date.now() + 1)) {
        rows.set(r.requestId, (rows.get(r.requestId) ?? 0) + (r.status === 200 ? 1 : 0));
      }
      await store.close();
      const lost = answered.filter((id) => rows.get(id) !== 1);
      report("kill-9-ledger", {
        backend: backend.name,
        answered: answered.length,
        // Committed, then cut by the kill before the client had the whole answer.
        billedNotReceived: [...rows.keys()].filter((id) => !answered.includes(id)).length,
        lost: lost.length,
      });
      expect(answered).toHaveLength(answeredBeforeKill);
      expect(lost).toEqual([]);
    },
    size(120_000, 600_000),
  );
});
