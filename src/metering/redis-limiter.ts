import { createHash } from "node:crypto";
import { createClient } from "@redis/client";
import {
  gcra,
  type KeyLimits,
  type Limiter,
  mergeSettlements,
  type Refusal,
  type Settlement,
} from "../store/limits.js";

/** One hash per key: `ps`, `pe` (the period), `requests`, `tokens`, `tat` (rate limit, µs). */
const PREFIX = "edgepool:limits:";

/**
 * The same admission as the SQL statement (src/store/limits.ts), atomic in Redis: returns 0
 * (admitted), -1 (no row yet), 1/2 (request/token quota used up; with the period's end) or
 * 3 (rate limit; with the wait in µs).
 */
const ADMIT = `
local function s(n) return string.format('%.0f', n) end
if redis.call('EXISTS', KEYS[1]) == 0 then return {-1, 0} end
-- Redis's clock: requests admitted in the order they run here see times in that order.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local ps, pe = tonumber(ARGV[1]), tonumber(ARGV[2])
local interval, tolerance = tonumber(ARGV[3]), tonumber(ARGV[4])
local rq, tq = tonumber(ARGV[5]), tonumber(ARGV[6])
local row = redis.call('HMGET', KEYS[1], 'ps', 'pe', 'requests', 'tokens', 'tat')
local cur = tonumber(row[1]) >= ps
local requests = cur and tonumber(row[3]) or 0
local tokens = cur and tonumber(row[4]) or 0
local periodEnd = cur and tonumber(row[2]) or pe
if requests >= rq then return {1, periodEnd} end
if tokens >= tq then return {2, periodEnd} end
local arrival = math.max(tonumber(row[5]), now)
if arrival - now > tolerance then return {3, arrival - tolerance - now} end
redis.call('HSET', KEYS[1], 'ps', cur and row[1] or s(ps), 'pe', s(periodEnd),
  'requests', s(requests + 1), 'tokens', s(tokens), 'tat', s(arrival + interval))
redis.call('PEXPIREAT', KEYS[1], s(math.max(periodEnd, math.floor((arrival + interval) / 1000)) + 86400000))
return {0, 0}`;

/** Tokens counted and an admission given back, in the period holding `at` only. */
const SETTLE = `
local row = redis.call('HMGET', KEYS[1], 'ps', 'pe', 'requests')
local at = tonumber(ARGV[1])
if not row[1] or tonumber(row[1]) > at or tonumber(row[2]) <= at then return 0 end
redis.call('HINCRBY', KEYS[1], 'tokens', ARGV[2])
redis.call('HSET', KEYS[1], 'requests', string.format('%.0f', math.max(0, tonumber(row[3]) - tonumber(ARGV[3]))))
return 1`;

/** A key's first row, from the ledger's figures (unless another instance made it first). */
const SEED = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'ps', ARGV[1], 'pe', ARGV[2], 'requests', ARGV[3], 'tokens', ARGV[4], 'tat', '0')
redis.call('PEXPIREAT', KEYS[1], string.format('%.0f', tonumber(ARGV[2]) + 86400000))
return 1`;

/** The part of the Redis client used here. */
interface Client {
  evalSha(sha: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  quit(): Promise<unknown>;
}

/**
 * Quotas and rate limits in Redis (`--limits-store redis://…`), for deployments that have one:
 * an admission is one round trip to Redis instead of one to the database. The ledger stays in
 * the store; counters are settled right after their rows are committed (a crash between the two
 * leaves a key's token count short by that commit's rows, never a row unbilled).
 */
export class RedisLimiter implements Limiter {
  private readonly sha = new Map<string, string>();

  private constructor(
    private readonly client: Client,
    private readonly spent: (
      keyId: string,
      from: number,
    ) => Promise<{ requests: number; tokens: number }>,
  ) {
    for (const script of [ADMIT, SETTLE, SEED]) {
      this.sha.set(script, createHash("sha1").update(script).digest("hex"));
    }
  }

  static async connect(
    url: string,
    spent: (keyId: string, from: number) => Promise<{ requests: number; tokens: number }>,
    onError: (err: unknown) => void = () => undefined,
  ): Promise<RedisLimiter> {
    const client = createClient({ url });
    // A lost connection reconnects; meanwhile admissions fail (503), they are never let through.
    client.on("error", onError);
    await client.connect();
    return new RedisLimiter(client as unknown as Client, spent);
  }

  private async run(script: string, key: string, args: (string | number)[]): Promise<number[]> {
    const options = { keys: [key], arguments: args.map(String) };
    try {
      return (await this.client.evalSha(this.sha.get(script)!, options)) as number[];
    } catch (err) {
      if (!String((err as Error).message).startsWith("NOSCRIPT")) throw err;
      return (await this.client.eval(script, options)) as number[];
    }
  }

  async admit(
    limits: KeyLimits,
    _now: number,
    period: { start: number; end: number },
  ): Promise<Refusal | null> {
    const key = PREFIX + limits.keyId;
    const rate = gcra(limits.rateLimit);
    const args = [
      period.start,
      period.end,
      rate.interval,
      rate.tolerance,
      limits.requestQuota ?? Number.MAX_SAFE_INTEGER,
      limits.tokenQuota ?? Number.MAX_SAFE_INTEGER,
    ];
    for (let attempt = 0; attempt < 2; attempt++) {
      const [code, value] = (await this.run(ADMIT, key, args)).map(Number) as [number, number];
      if (code === 0) return null;
      if (code === 1) return { limit: "requests", periodEnd: value };
      if (code === 2) return { limit: "tokens", periodEnd: value };
      if (code === 3) return { limit: "rate", retryAfterMs: value / 1000 };
      const seed = await this.spent(limits.keyId, period.start);
      await this.run(SEED, key, [period.start, period.end, seed.requests, seed.tokens]);
    }
    throw new Error(`could not create the limits of key ${limits.keyId} in Redis`);
  }

  settleStatements(): [] {
    return [];
  }

  async settleAfter(settlements: readonly Settlement[]): Promise<void> {
    await Promise.all(
      mergeSettlements(settlements).map((s) =>
        this.run(SETTLE, PREFIX + s.keyId, [s.at, s.tokens, s.refund]),
      ),
    );
  }

  async close(): Promise<void> {
    await this.client.quit().catch(() => undefined);
  }
}
