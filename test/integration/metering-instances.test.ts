import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli, createKey } from "../helpers/cli.js";
import { fixture } from "../helpers/fixtures.js";
import { getJson, postJson, type RunningServer, startServer } from "../helpers/server.js";
import { type TestBackend, testBackends } from "../helpers/stores.js";

const backends = await testBackends();
const auth = (key: string) => ({ authorization: `Bearer ${key}` });

// Several server processes on one store: the limits of a key hold for all of them together, and a
// revocation reaches them all (key lookups cached for 10 minutes here: far longer than a test).
describe.each(backends)(
  "quotas and rate limits across instances on $name",
  (backend: TestBackend) => {
    let spec: string;
    let drop: () => Promise<void>;
    let servers: RunningServer[] = [];

    beforeAll(async () => {
      if (backend.unavailable) return;
      ({ spec, drop } = await backend.create());
      servers = await Promise.all(
        Array.from({ length: 4 }, () =>
          startServer(
            ["--model", fixture("bert-embed-mean"), "--store", spec, "--key-cache-ms", "600000"],
            {
              EDGEPOOL_STORE: "",
              DATABASE_URL: "",
            },
          ),
        ),
      );
    }, 120_000);
    afterAll(async () => {
      if (backend.unavailable) return;
      await Promise.all(servers.map((s) => s.stop()));
      await drop();
    });

    const embed = (n: number, i: number, key: string) =>
      postJson(`${servers[i % n]!.url}/v1/embeddings`, { input: `request ${i}` }, auth(key));

    it.skipIf(backend.unavailable)(
      "a revoked key gets 401 from its next request on, on every instance",
      async () => {
        const k = await createKey(spec, "revoked-everywhere");
        for (let i = 0; i < 4; i++) expect((await embed(4, i, k.key)).status).toBe(200);
        const revoked = await cli(["keys", "revoke", k.id, "--store", spec]);
        expect(revoked.code).toBe(0);
        for (let i = 0; i < 4; i++) {
          const r = await embed(4, i, k.key);
          expect(r.status).toBe(401);
          expect(r.body.error.type).toBe("AuthenticationError");
        }
      },
    );

    for (const n of [2, 4]) {
      it.skipIf(backend.unavailable)(
        `${n} instances: a 5/day request quota admits exactly 5 of 24 concurrent requests`,
        async () => {
          const k = await createKey(spec, `conc-${n}`, [
            "--request-quota",
            "5",
            "--quota-period",
            "day",
          ]);
          const answers = await Promise.all(
            Array.from({ length: 24 }, (_, i) => embed(n, i, k.key)),
          );
          const statuses = answers.map((a) => a.status);
          expect(statuses.filter((s) => s === 200)).toHaveLength(5);
          expect(statuses.filter((s) => s === 429)).toHaveLength(19);
          const usage = await getJson(`${servers[0]!.url}/v1/usage`, auth(k.key));
          expect(usage.status).toBe(200);
          // Refusals are rows too (errors, not billed).
          expect(usage.body.total).toMatchObject({ requests: 24, errors: 19 });
        },
      );

      it.skipIf(backend.unavailable)(
        `${n} instances: a 5/day request quota admits exactly 5 sequential requests, round robin`,
        async () => {
          const k = await createKey(spec, `seq-${n}`, [
            "--request-quota",
            "5",
            "--quota-period",
            "day",
          ]);
          const statuses: number[] = [];
          for (let i = 0; i < 12; i++) {
            const a = await embed(n, i, k.key);
            statuses.push(a.status);
            if (a.status === 429) {
              expect(a.body.error.message).toMatch(/Request quota exhausted .* 5 requests per day/);
              expect(Number(a.headers.get("retry-after"))).toBeGreaterThan(0);
            }
          }
          expect(statuses).toEqual([...Array(5).fill(200), ...Array(7).fill(429)]);
        },
      );

      it.skipIf(backend.unavailable)(
        `${n} instances: a 3/min rate limit admits exactly 3 of 12 concurrent requests`,
        async () => {
          const k = await createKey(spec, `rate-${n}`, ["--rate-limit", "3"]);
          const answers = await Promise.all(
            Array.from({ length: 12 }, (_, i) => embed(n, i, k.key)),
          );
          const refused = answers.filter((a) => a.status === 429);
          expect(answers.filter((a) => a.status === 200)).toHaveLength(3);
          expect(refused).toHaveLength(9);
          for (const r of refused) {
            expect(r.body.error.message).toMatch(/Rate limit exceeded .* 3 requests per minute/);
            // The next token comes 20 s after the first was taken (+1: instances read the clock
            // a moment apart, and the header rounds up).
            const wait = Number(r.headers.get("retry-after"));
            expect(wait).toBeGreaterThan(0);
            expect(wait).toBeLessThanOrEqual(21);
          }
        },
      );
    }
  },
);
