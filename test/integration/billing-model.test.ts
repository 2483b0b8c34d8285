import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStore } from "../../src/store/index.js";
import { runCli as cli, createKey } from "../helpers/cli.js";
import { fixture } from "../helpers/fixtures.js";
import { getJson, postJson, type RunningServer, startServer } from "../helpers/server.js";
import { type TestBackend, testBackends } from "../helpers/stores.js";

const backends = await testBackends();

describe.each(backends)(
  "serve --model a --model b on $name: each request is billed as the model it ran on",
  (backend: TestBackend) => {
    let server: RunningServer;
    let spec: string;
    let drop: () => Promise<void>;
    let key: { id: string; key: string };
    const auth = () => ({ authorization: `Bearer ${key.key}` });

    beforeAll(async () => {
      if (backend.unavailable) return;
      ({ spec, drop } = await backend.create());
      key = await createKey(spec, "two-models");
      server = await startServer(
        [
          "--model",
          fixture("bert-embed-mean"),
          "--served-model-name",
          "a",
          "--model",
          fixture("bert-embed-cls"),
          "--served-model-name",
          "b",
          "--store",
          spec,
          "--key-cache-ms",
          "0",
        ],
        { EDGEPOOL_STORE: "", DATABASE_URL: "" },
      );
    });
    afterAll(async () => {
      if (backend.unavailable) return;
      await server?.stop();
      await drop();
    });

    it.skipIf(backend.unavailable)("ledger, /v1/usage, csv and jsonl exports", async () => {
      const asked = [
        { model: "b", input: ["a cat", "a dog"] },
        { model: "a", input: "a cat" },
        { input: "the first model answers a request without a model" },
      ];
      for (const body of asked) {
        const r = await postJson(`${server.url}/v1/embeddings`, body, auth());
        expect(r.status).toBe(200);
        expect(r.body.model).toBe(body.model ?? "a");
      }
      const usage = await getJson(`${server.url}/v1/usage?group_by=model`, auth());
      expect(usage.status).toBe(200);
      const byModel = Object.fromEntries(
        usage.body.data.map((d: { group: string; requests: number; inputs: number }) => [
          d.group,
          { requests: d.requests, inputs: d.inputs },
        ]),
      );
      expect(byModel).toEqual({ a: { requests: 2, inputs: 2 }, b: { requests: 1, inputs: 2 } });

      expect(await server.stop()).toBe(0);
      const store = await openStore(spec);
      const rows: Array<{ model: string | null; inputs: number }> = [];
      for await (const r of store.ledger.rows(0, Date.now() + 1)) {
        if (r.route === "/v1/embeddings") rows.push({ model: r.model, inputs: r.inputs });
      }
      await store.close();
      expect(rows.sort((x, y) => String(x.model).localeCompare(String(y.model)))).toEqual([
        { model: "a", inputs: 1 },
        { model: "a", inputs: 1 },
        { model: "b", inputs: 2 },
      ]);

      const csv = await cli(["usage", "export", "--store", spec, "--format", "csv"]);
      expect(csv.code).toBe(0);
      const [header, ...lines] = csv.stdout.trim().split("\n");
      const col = header!.split(",").indexOf("model");
      expect(col).toBeGreaterThan(0);
      const csvModels = lines
        .filter((l) => l.includes("/v1/embeddings"))
        .map((l) => l.split(",")[col]);
      expect(csvModels.sort()).toEqual(["a", "a", "b"]);
      const jsonl = await cli(["usage", "export", "--store", spec, "--format", "jsonl"]);
      const records = jsonl.stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as { route: string; model: string; inputs: number });
      expect(
        records
          .filter((r) => r.route === "/v1/embeddings")
          .map((r) => `${r.model}:${r.inputs}`)
          .sort(),
      ).toEqual(["a:1", "a:1", "b:2"]);
    });
  },
);
