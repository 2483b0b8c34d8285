import type { Logger } from "pino";
// Only what the flags and their help need is imported here: `serve` reads this before it starts
// loading the model; the signing module (standardwebhooks) loads only when secrets are given.
import { DEFAULT_RETRY } from "../jobs/backoff.js";
import {
  DEFAULT_CALLBACK_TIMEOUT_MS,
  DEFAULT_JOB_CONCURRENCY,
  DEFAULT_JOB_LEASE_MS,
  DEFAULT_JOB_POLL_MS,
  type JobsOptions,
} from "../jobs/options.js";
import {
  BILLABLE_CHOICES,
  type Billable,
  DEFAULT_KEY_CACHE_MS,
  DEFAULT_LEDGER_FLUSH_MS,
  Meter,
} from "../metering/meter.js";
import {
  type Limiter,
  openStore,
  type Store,
  StoreSpecError,
  storeSpecFrom,
} from "../store/index.js";
import { listFrom } from "./list.js";
import { intFlag } from "./model-flags.js";
import { UsageError } from "./usage-error.js";

/** `--store` for every command that uses one. */
export const STORE_FLAG = { store: { type: "string" } } as const;

export const STORE_FLAG_HELP = `  --store SPEC                  sqlite:PATH (embedded) or postgres://… (several instances);
                                also EDGEPOOL_STORE, then DATABASE_URL`;

/** Flags of `serve` for metering and webhook reranking. */
export const SERVE_STORE_FLAGS = {
  ...STORE_FLAG,
  "key-cache-ms": { type: "string" },
  "ledger-flush-ms": { type: "string" },
  billable: { type: "string" },
  "limits-store": { type: "string" },
  "webhook-secret": { type: "string", multiple: true },
  "inbound-webhook-secret": { type: "string", multiple: true },
  "callback-allow-http": { type: "boolean" },
  "callback-allow-private": { type: "boolean" },
  "callback-allow-host": { type: "string", multiple: true },
  "callback-timeout-ms": { type: "string" },
  "job-attempts": { type: "string" },
  "job-backoff-ms": { type: "string" },
  "job-backoff-max-ms": { type: "string" },
  "job-lease-ms": { type: "string" },
  "job-concurrency": { type: "string" },
  "job-poll-ms": { type: "string" },
  "job-worker": { type: "string" },
} as const;

export const SERVE_STORE_HELP = `Metering and keys (with a store, every request needs a key: stored or --api-key):
${STORE_FLAG_HELP}
  --billable inference|all      what is billed (and admitted against quotas and rate limits):
                                inference = model requests (POST) and jobs' reranks, not polls
                                or usage reads (default); all = every authenticated request
  --limits-store redis://…      count quotas and rate limits in Redis (one round trip there per
                                admission) instead of the store's key_usage table
  --key-cache-ms N              Postgres: reuse a key lookup this long where a revocation's
                                notification may be missed (default ${DEFAULT_KEY_CACHE_MS}; SQLite reads keys each time)
  --ledger-flush-ms N           a ledger commit waits this long for more rows to join it (default
                                ${DEFAULT_LEDGER_FLUSH_MS}); every row is committed before its response is released

Webhook reranking (POST /v1/rerank/jobs; needs --store and a --webhook-secret):
  --webhook-secret whsec_…      signs callbacks; repeatable (all sign, for rotation);
                                also EDGEPOOL_WEBHOOK_SECRETS=a,b
  --inbound-webhook-secret S    require Standard Webhooks signatures on job requests; repeatable;
                                also EDGEPOOL_INBOUND_WEBHOOK_SECRETS=a,b
  --callback-allow-host HOST    only these callback hosts (repeatable; *.example.com for subdomains)
  --callback-allow-http         allow http:// callbacks (default https only)
  --callback-allow-private      allow private and loopback callback addresses (default refused)
  --callback-timeout-ms N       wait this long for a callback's answer (default ${DEFAULT_CALLBACK_TIMEOUT_MS})
  --job-attempts N              delivery attempts before a job fails (default ${DEFAULT_RETRY.attempts})
  --job-backoff-ms N            first retry delay, doubling, ±${DEFAULT_RETRY.jitter * 100}% jitter (default ${DEFAULT_RETRY.baseMs})
  --job-backoff-max-ms N        longest retry delay (default ${DEFAULT_RETRY.maxMs})
  --job-lease-ms N              a job whose worker stopped (killed, lost) is retried this long
                                after its lease's last renewal, every third of it (default ${DEFAULT_JOB_LEASE_MS})
  --job-concurrency N           jobs processed at once per instance (default ${DEFAULT_JOB_CONCURRENCY})
  --job-poll-ms N               look for due jobs this often (default ${DEFAULT_JOB_POLL_MS})
  --job-worker on|off           process jobs in this instance (default on)`;

type Values = { [K in keyof typeof SERVE_STORE_FLAGS]?: string | string[] | boolean | undefined };

/** A bad flag value as a usage error (exit 2, no stack). */
function usage<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

export interface StoreServices {
  store: Store;
  meter: Meter;
  jobs: { store: Store; options: JobsOptions } | undefined;
  /** Run the job worker in this process. */
  runWorker: boolean;
}

/** Webhook reranking's options, when signing secrets are given (else no jobs). */
async function jobsOptions(
  values: Values,
  env: NodeJS.ProcessEnv,
  secrets: string[],
): Promise<JobsOptions | undefined> {
  const str = (k: keyof Values) => values[k] as string | undefined;
  const allowHosts = (values["callback-allow-host"] as string[] | undefined) ?? [];
  const signing = secrets.length === 0 ? null : await import("../jobs/signing.js");
  if (signing === null) return undefined;
  return {
    signer: usage(() => new signing.CallbackSigner(secrets)),
    inbound: usage(
      () =>
        new signing.InboundVerifier(
          listFrom(
            values["inbound-webhook-secret"] as string[] | undefined,
            env.EDGEPOOL_INBOUND_WEBHOOK_SECRETS,
          ),
        ),
    ),
    callbacks: {
      allowHttp: values["callback-allow-http"] === true,
      allowPrivate: values["callback-allow-private"] === true,
      allowHosts: allowHosts.length > 0 ? allowHosts : null,
    },
    retry: {
      ...DEFAULT_RETRY,
      attempts: intFlag("job-attempts", str("job-attempts")) ?? DEFAULT_RETRY.attempts,
      baseMs: intFlag("job-backoff-ms", str("job-backoff-ms"), 0) ?? DEFAULT_RETRY.baseMs,
      maxMs: intFlag("job-backoff-max-ms", str("job-backoff-max-ms"), 0) ?? DEFAULT_RETRY.maxMs,
    },
    leaseMs: intFlag("job-lease-ms", str("job-lease-ms")) ?? DEFAULT_JOB_LEASE_MS,
    concurrency: intFlag("job-concurrency", str("job-concurrency")) ?? DEFAULT_JOB_CONCURRENCY,
    pollMs: intFlag("job-poll-ms", str("job-poll-ms")) ?? DEFAULT_JOB_POLL_MS,
    callbackTimeoutMs:
      intFlag("callback-timeout-ms", str("callback-timeout-ms")) ?? DEFAULT_CALLBACK_TIMEOUT_MS,
  };
}

/** Open the store named by the flags (or env) and configure metering and jobs; null without one. */
export async function storeServices(
  values: Values,
  log: Logger,
  env: NodeJS.ProcessEnv = process.env,
  runtime: {
    /** Listen for key revocations (a long-lived process; not a function instance that freezes). */
    watchKeys?: boolean;
    /** Counters in Redis (`--limits-store`); serve loads the client only when it is asked for. */
    redis?: (url: string, store: Store, log: Logger) => Promise<Limiter>;
  } = {},
): Promise<StoreServices | null> {
  const str = (k: keyof Values) => values[k] as string | undefined;
  const spec = storeSpecFrom(str("store"), env);
  const secrets = listFrom(
    values["webhook-secret"] as string[] | undefined,
    env.EDGEPOOL_WEBHOOK_SECRETS,
  );
  if (!spec) {
    if (secrets.length > 0)
      throw new UsageError("--webhook-secret needs --store (jobs are stored)");
    return null;
  }
  const worker = str("job-worker") ?? "on";
  if (worker !== "on" && worker !== "off") throw new UsageError("--job-worker must be on or off");
  const options = await jobsOptions(values, env, secrets);
  const keyCacheMs = intFlag("key-cache-ms", str("key-cache-ms"), 0) ?? DEFAULT_KEY_CACHE_MS;
  const ledgerFlushMs =
    intFlag("ledger-flush-ms", str("ledger-flush-ms"), 0) ?? DEFAULT_LEDGER_FLUSH_MS;
  const billable = (str("billable") ?? "inference") as Billable;
  if (!BILLABLE_CHOICES.includes(billable)) {
    throw new UsageError(`--billable must be ${BILLABLE_CHOICES.join(" or ")}`);
  }
  const limitsStore = str("limits-store");
  if (limitsStore !== undefined && !/^rediss?:\/\//.test(limitsStore)) {
    throw new UsageError("--limits-store must be a redis:// or rediss:// URL");
  }
  if (limitsStore !== undefined && !runtime.redis) {
    throw new UsageError(
      "--limits-store is for serve: functions count limits in their store (DATABASE_URL)",
    );
  }
  const store = await openCliStore(spec);
  let limiter: Limiter | undefined;
  try {
    limiter = limitsStore ? await runtime.redis!(limitsStore, store, log) : undefined;
  } catch (err) {
    await store.close();
    throw new UsageError(`--limits-store: ${(err as Error).message}`);
  }
  const meter = new Meter(store, {
    ...(limiter ? { limiter } : {}),
    keyCacheMs,
    ledgerFlushMs,
    billable,
    onError: (err, rows) => log.error({ err: (err as Error).message, rows }, "ledger write failed"),
  });
  if (runtime.watchKeys !== false) {
    meter.watchKeys((err) =>
      log.warn(
        { err: (err as Error).message },
        "key notifications interrupted: reconnecting (cached keys forgotten)",
      ),
    );
  }
  return {
    store,
    meter,
    jobs: options && { store, options },
    runWorker: worker === "on",
  };
}

/** The store of a CLI command: `--store`, else EDGEPOOL_STORE or DATABASE_URL, else an error. */
export async function openCliStore(flag: string | undefined): Promise<Store> {
  const spec = storeSpecFrom(flag);
  if (!spec) {
    throw new UsageError(
      "name a store: --store sqlite:PATH | postgres://… (or EDGEPOOL_STORE, DATABASE_URL)",
    );
  }
  return openStore(spec).catch((err: Error) => {
    throw err instanceof StoreSpecError ? new UsageError(err.message) : err;
  });
}
