import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { fixture } from "../helpers/fixtures.js";
import { commands, docBlock, hubScratch, jsonAt, runSh, startServe, substitute } from "./blocks.js";

// docs/metering.md's three blocks in order, as a reader pastes them into two shells: the keys,
// the server (reading EDGEPOOL_STORE), then the requests and the key and usage commands.
describe("docs/metering.md: keys, a metered server, usage and its export", () => {
  const ctx = hubScratch("edgepool-metering-doc-", {
    "sentence-transformers/all-MiniLM-L6-v2": fixture("bert-embed-mean"),
  });
  const scratch = ctx.dir;
  const db = `sqlite:${join(scratch, "edgepool.db")}`;

  it("runs as written", async () => {
    const keys = substitute(docBlock("docs/metering.md", "keys"), {
      "sqlite:./edgepool.db": db,
    });
    const created = await runSh(`${keys}\necho "KEY=$KEY"`);
    expect(created.code, created.stderr).toBe(0);
    const key = /^KEY=(ep_\S+)$/m.exec(created.stdout)?.[1];
    expect(key).toBeDefined();

    const [serve] = commands(docBlock("docs/metering.md", "serve"));
    const server = await startServe(serve!, {
      env: { EDGEPOOL_STORE: db, ...ctx.env() },
    });
    try {
      const port = new URL(server.url).port;
      const use = substitute(docBlock("docs/metering.md", "use"), {
        "localhost:8000": `localhost:${port}`,
        "> usage.csv": `> ${join(scratch, "usage.csv")}`,
        "> meter-events.jsonl": `> ${join(scratch, "meter-events.jsonl")}`,
      });
      const r = await runSh(use, { env: { EDGEPOOL_STORE: db, KEY: key! } });
      expect(r.code, r.stderr).toBe(0);
      // curl prints each body without a newline: the usage answer starts where the first ends.
      const at = r.stdout.indexOf('{"object":"usage"');
      expect(at).toBeGreaterThan(0);
      expect((jsonAt(r.stdout) as { data: unknown[] }).data).toHaveLength(1);
      const totals = jsonAt(r.stdout, at) as { object: string; total: { requests: number } };
      expect(totals.object).toBe("usage");
      expect(totals.total.requests).toBe(1);
      expect(r.stdout).toContain("acme");
      // Revoked: the key is refused from the next request on.
      const after = await fetch(`${server.url}/v1/embeddings`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({ input: "a" }),
      });
      expect(after.status).toBe(401);
      const csv = readFileSync(join(scratch, "usage.csv"), "utf8").split("\n");
      expect(csv[0]).toContain("route");
      const events = readFileSync(join(scratch, "meter-events.jsonl"), "utf8").trim().split("\n");
      const event = JSON.parse(events[0]!) as { event_name: string; payload: object };
      expect(event.event_name).toBe("api_tokens");
      expect(event.payload).toEqual({ stripe_customer_id: "cus_NffrFeUfNV2Hib", value: "4" });
    } finally {
      await server.stop();
    }
  });
});
