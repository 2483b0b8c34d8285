// Only what the flags and their help need is imported here: `serve` reads this before it starts
// loading the model.
import { DEFAULT_RETRY } from "../jobs/backoff.js";
import {
  DEFAULT_CALLBACK_TIMEOUT_MS,
  DEFAULT_JOB_CONCURRENCY,
  DEFAULT_JOB_LEASE_MS,
  DEFAULT_JOB_POLL_MS,
} from "../jobs/options.js";
import { DEFAULT_KEY_CACHE_MS, DEFAULT_LEDGER_FLUSH_MS } from "../metering/meter.js";
import type { FlagTable } from "./flags.js";

/** `--store` for every command that uses one, and `--create` for `serve`, which may start one. */
export const STORE_FLAG = {
  store: {
    type: "string",
    value: "SPEC",
    help: "sqlite:PATH or postgres://…; also EDGEPOOL_STORE, then DATABASE_URL. A SQLite file must already exist",
  },
} as const satisfies FlagTable;

export const CREATE_FLAG = {
  create: {
    type: "boolean",
    help: "create the SQLite file of --store if it is missing (and say so)",
  },
} as const satisfies FlagTable;

/** Metering: what is billed and how usage is counted. */
export const METER_FLAGS = {
  billable: {
    type: "string",
    value: "inference|all",
    help: "what is billed and counted against quotas: inference (model requests and jobs' reranks) or all (every authenticated request)",
    shown: "inference",
  },
  "limits-store": {
    type: "string",
    value: "redis://…",
    help: "count quotas and rate limits in Redis instead of the store (one round trip per request)",
  },
  "key-cache-ms": {
    type: "string",
    value: "N",
    help: "Postgres: trust a key lookup this long if a revocation notice is missed",
    shown: DEFAULT_KEY_CACHE_MS,
  },
  "ledger-flush-ms": {
    type: "string",
    value: "N",
    help: "a ledger commit waits this long for more rows; each row is committed before its response",
    shown: DEFAULT_LEDGER_FLUSH_MS,
  },
} as const satisfies FlagTable;

/** Webhook reranking: signing, callbacks and the job worker. */
export const JOB_FLAGS = {
  "webhook-secret": {
    type: "string",
    multiple: true,
    value: "whsec_…",
    help: "signs callbacks; repeatable (all sign, for rotation); also EDGEPOOL_WEBHOOK_SECRETS=a,b",
  },
  "inbound-webhook-secret": {
    type: "string",
    multiple: true,
    value: "SECRET",
    help: "require Standard Webhooks signatures on job requests; repeatable; also EDGEPOOL_INBOUND_WEBHOOK_SECRETS=a,b",
  },
  "callback-allow-host": {
    type: "string",
    multiple: true,
    value: "HOST",
    help: "only these callback hosts; repeatable; *.example.com for subdomains",
  },
  "callback-allow-http": {
    type: "boolean",
    help: "allow http:// callbacks (https only by default)",
  },
  "callback-allow-private": {
    type: "boolean",
    help: "allow private and loopback callback addresses (refused by default)",
  },
  "callback-timeout-ms": {
    type: "string",
    value: "N",
    help: "wait this long for a callback's answer",
    shown: DEFAULT_CALLBACK_TIMEOUT_MS,
  },
  "job-attempts": {
    type: "string",
    value: "N",
    help: "delivery attempts before a job fails",
    shown: DEFAULT_RETRY.attempts,
  },
  "job-backoff-ms": {
    type: "string",
    value: "N",
    help: `first retry delay, doubling, ±${DEFAULT_RETRY.jitter * 100}% jitter`,
    shown: DEFAULT_RETRY.baseMs,
  },
  "job-backoff-max-ms": {
    type: "string",
    value: "N",
    help: "longest retry delay",
    shown: DEFAULT_RETRY.maxMs,
  },
  "job-lease-ms": {
    type: "string",
    value: "N",
    help: "a job whose worker stopped is retried this long after its lease was last renewed",
    shown: DEFAULT_JOB_LEASE_MS,
  },
  "job-concurrency": {
    type: "string",
    value: "N",
    help: "jobs processed at once per instance",
    shown: DEFAULT_JOB_CONCURRENCY,
  },
  "job-poll-ms": {
    type: "string",
    value: "N",
    help: "look for due jobs this often",
    shown: DEFAULT_JOB_POLL_MS,
  },
  "job-worker": {
    type: "string",
    value: "on|off",
    help: "process jobs in this instance",
    shown: "on",
  },
} as const satisfies FlagTable;

/** `serve`'s store flags (the functions read each as `EDGEPOOL_<FLAG>`). */
export const SERVE_STORE_FLAGS = {
  ...STORE_FLAG,
  ...CREATE_FLAG,
  ...METER_FLAGS,
  ...JOB_FLAGS,
} as const satisfies FlagTable;
