import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli as cli, createKey } from "../helpers/cli.js";
import { fixture } from "../helpers/fixtures.js";
import { getJson, postJson, type RunningServer, startServer } from "../helpers/server.js";
import { redisUnavailable, TEST_REDIS_URL, testBackends } from "../helpers/stores.js";

const unavailable = await redisUnavailable();
const sqlite = (await testBackends())[0]!;
const auth = (key: string) => ({ authorization: `Bearer ${key}` });

// Two server processes on one store, counting quotas and rate limits in Redis.
describe.skipIf(unavailable !== null)("quotas and rate limits in Redis (--limits-store)", () => {
  let spec: string;
  let drop: () => Promise<void>;
  let servers: RunningServer[] = [];
  const embed = (i: number, key: string, input = `request ${i}`) =>
    postJson(`${servers[i % 2]!.url}/v1/embeddings`, { input }, auth(key));

  beforeAll(async () => {
    ({ spec, drop } = await sqlite.create());
    servers = await Promise.all(
      Array.from({ length: 2 }, () =>
        startServer(
          [
            "--model",
            fixture("bert-embed-mean"),
            "--store",
            spec,
            "--limits-store",
            TEST_REDIS_URL,
          ],
          { EDGEPOOL_STORE: "", DATABASE_URL: "" },
        ),
      ),
    );
  }, 60_000);
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await drop();
  });

  it("a 5/day request quota admits exactly 5 of 16 concurrent requests", async () => {
    const k = await createKey(spec, "redis-quota", [
      "--request-quota",
      "5",
      "--quota-period",
      "day",
    ]);
    const answers = await Promise.all(Array.from({ length: 16 }, (_, i) => embed(i, k.key)));
    expect(answers.filter((a) => a.status === 200)).toHaveLength(5);
    const refused = answers.filter((a) => a.status === 429);
    expect(refused).toHaveLength(11);
    expect(refused[0]!.body.error.message).toMatch(/Request quota exhausted .* 5 requests per day/);
  });

  it("a 3/min rate limit admits exactly 3 of 9 concurrent requests", async () => {
    const k = await createKey(spec, "redis-rate", ["--rate-limit", "3"]);
    const answers = await Promise.all(Array.from({ length: 9 }, (_, i) => embed(i, k.key)));
    expect(answers.filter((a) => a.status === 200)).toHaveLength(3);
    const refused = answers.filter((a) => a.status === 429);
    expect(Number(refused[0]!.headers.get("retry-after"))).toBeGreaterThan(0);
  });

  it("tokens are counted once their rows are written: a token quota trips", async () => {
    const k = await createKey(spec, "redis-tokens", ["--token-quota", "10"]);
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await embed(i, k.key, "hello world")).status);
    // "hello world" is 4 tokens: 0 → 4 → 8 → 12 (the request that crosses the quota is served).
    expect(statuses).toEqual([200, 200, 200, 429]);
    const usage = await getJson(`${servers[0]!.url}/v1/usage`, auth(k.key));
    expect(usage.body.total).toMatchObject({ requests: 4, errors: 1, prompt_tokens: 12 });
  });

  it("refuses a --limits-store that is not a Redis URL", async () => {
    const r = await cli([
      "serve",
      "--model",
      fixture("bert-embed-mean"),
      "--store",
      spec,
      "--limits-store",
      "http://x",
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--limits-store must be a redis:\/\/ or rediss:\/\/ URL/);
  });
});
