import { existsSync } from "node:fs";
import type { Logger } from "pino";
// The signing module (standardwebhooks) loads only when secrets are given.
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
  shownSpec,
  sqlitePath,
  storeSpecFrom,
} from "../store/index.js";
import { intFlag } from "./flags.js";
import { listFrom } from "./list.js";
import type { SERVE_STORE_FLAGS } from "./store-flags.js";
import { CliError, UsageError } from "./usage-error.js";

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
  const store = await openCliStore(spec, {
    create: values.create === true,
    onCreate: (message) => log.info(message),
  });
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

/** How a CLI command opens its store. */
export interface OpenStoreOptions {
  /** A SQLite file that does not exist is created (`--create`; `keys create`), else refused. */
  create?: boolean;
  /** Told when a new SQLite file was created. */
  onCreate?: (message: string) => void;
  /** How to start a store, said when the SQLite file does not exist. */
  howToCreate?: string;
}

/**
 * The store of a CLI command: `--store`, else EDGEPOOL_STORE or DATABASE_URL, else an error. A
 * SQLite file must exist unless `--create` is given (a mistyped path must not start an empty
 * store); a store that cannot be opened is one line naming it.
 */
export async function openCliStore(
  flag: string | undefined,
  options: OpenStoreOptions = {},
): Promise<Store> {
  const spec = storeSpecFrom(flag);
  if (!spec) {
    throw new UsageError(
      "name a store: --store sqlite:PATH | postgres://… (or EDGEPOOL_STORE, DATABASE_URL)",
    );
  }
  const path = sqlitePath(spec);
  const creating = !!path && path !== ":memory:" && !existsSync(path);
  if (creating && !options.create) {
    throw new UsageError(
      `${spec}: no such file. Check the path, or ${options.howToCreate ?? "add --create to start a new, empty store there"}`,
    );
  }
  const store = await openStore(spec).catch((err: Error) => {
    if (err instanceof StoreSpecError) throw new UsageError(err.message);
    throw new CliError(`cannot open the store ${shownSpec(spec)}: ${err.message}`);
  });
  if (creating) options.onCreate?.(`created a new, empty store at ${spec}`);
  return store;
}
