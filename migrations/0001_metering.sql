-- The metering store (src/store/schema.ts: API keys, usage ledger, quotas and rate limits, jobs)
-- on D1. Applied by `npx wrangler d1 migrations apply edgepool` (--local / --remote) before the
-- Worker serves; test/edge/migrations.test.ts keeps it equal to the store's schema.
CREATE TABLE IF NOT EXISTS api_keys (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  key_hash TEXT NOT NULL UNIQUE,
  key_prefix TEXT NOT NULL,
  previous_hash TEXT,
  previous_expires_at BIGINT,
  customer TEXT,
  request_quota BIGINT,
  token_quota BIGINT,
  quota_period TEXT NOT NULL DEFAULT 'month',
  rate_limit BIGINT,
  created_at BIGINT NOT NULL,
  rotated_at BIGINT,
  revoked_at BIGINT
);

CREATE INDEX IF NOT EXISTS api_keys_previous_hash ON api_keys (previous_hash);

CREATE TABLE IF NOT EXISTS usage_ledger (
  id TEXT PRIMARY KEY,
  key_id TEXT NOT NULL,
  route TEXT NOT NULL,
  model TEXT,
  inputs BIGINT NOT NULL,
  prompt_tokens BIGINT NOT NULL,
  status BIGINT NOT NULL,
  duration_ms DOUBLE PRECISION NOT NULL,
  request_id TEXT NOT NULL,
  created_at BIGINT NOT NULL
);

CREATE INDEX IF NOT EXISTS usage_ledger_key_time ON usage_ledger (key_id, created_at);

CREATE INDEX IF NOT EXISTS usage_ledger_time ON usage_ledger (created_at);

CREATE TABLE IF NOT EXISTS rerank_jobs (
  id TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  idempotency_key TEXT,
  request_hash TEXT NOT NULL,
  request TEXT NOT NULL,
  callback_url TEXT NOT NULL,
  status TEXT NOT NULL,
  attempts BIGINT NOT NULL DEFAULT 0,
  max_attempts BIGINT NOT NULL,
  next_at BIGINT NOT NULL,
  result TEXT,
  error TEXT,
  last_status BIGINT,
  last_response TEXT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  completed_at BIGINT,
  UNIQUE (owner, idempotency_key)
);

CREATE INDEX IF NOT EXISTS rerank_jobs_due ON rerank_jobs (status, next_at);

CREATE TABLE IF NOT EXISTS key_usage (
  key_id TEXT PRIMARY KEY,
  period_start BIGINT NOT NULL,
  period_end BIGINT NOT NULL,
  requests BIGINT NOT NULL,
  tokens BIGINT NOT NULL,
  tat BIGINT NOT NULL,
  admitted BIGINT NOT NULL DEFAULT 0
);
