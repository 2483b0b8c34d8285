import { type FlagTable, type FlagValues, intFlag } from "../config/flags.js";
import { STORE_FLAG } from "../config/store-flags.js";
import { openCliStore } from "../config/store-services.js";
import { UsageError } from "../config/usage-error.js";
import { newId, newSecret } from "../metering/index.js";
import type { ApiKey, QuotaPeriod, Store } from "../store/index.js";
import { parseCommandLine } from "./args.js";
import { renderHelp } from "./help.js";

/** A Stripe customer id: `cus_` and an alphanumeric suffix. */
const STRIPE_CUSTOMER = /^cus_[A-Za-z0-9]{1,255}$/;

function describe(k: ApiKey): Record<string, unknown> {
  return {
    id: k.id,
    name: k.name,
    prefix: k.keyPrefix,
    customer: k.customer,
    request_quota: k.requestQuota,
    token_quota: k.tokenQuota,
    quota_period: k.quotaPeriod,
    rate_limit: k.rateLimit,
    created_at: new Date(k.createdAt).toISOString(),
    rotated_at: k.rotatedAt === null ? null : new Date(k.rotatedAt).toISOString(),
    revoked_at: k.revokedAt === null ? null : new Date(k.revokedAt).toISOString(),
  };
}

async function find(store: Store, ref: string | undefined): Promise<ApiKey> {
  if (!ref) throw new UsageError("name the key: its id or name");
  const key = await store.keys.get(ref);
  if (!key) throw new UsageError(`no key '${ref}'`);
  return key;
}

function announce(
  out: (line: string) => void,
  json: boolean,
  key: ApiKey,
  secret: string,
  verb: string,
) {
  if (json) {
    out(JSON.stringify({ ...describe(key), key: secret }));
    return;
  }
  out(`${verb} key ${key.id} (${key.name}). It is shown only this once; keep it secret:`);
  out(secret);
}

const KEYS_FLAGS = {
  ...STORE_FLAG,
  name: {
    type: "string",
    value: "NAME",
    help: "a label for the key (unique names make revoke and rotate by name easy)",
  },
  customer: {
    type: "string",
    value: "cus_…",
    help: "the key's Stripe customer id, for usage export --format stripe",
  },
  "request-quota": {
    type: "string",
    value: "N",
    help: "billable requests per period",
    shown: "unlimited",
  },
  "token-quota": {
    type: "string",
    value: "N",
    help: "prompt tokens per period",
    shown: "unlimited",
  },
  "quota-period": {
    type: "string",
    value: "day|month",
    help: "UTC calendar period of the quotas",
    shown: "month",
  },
  "rate-limit": { type: "string", value: "N", help: "requests per minute", shown: "unlimited" },
  grace: {
    type: "string",
    value: "SECONDS",
    help: "rotate: the old key keeps working this long",
    shown: 0,
  },
  json: { type: "boolean", help: "print JSON instead of text" },
} as const satisfies FlagTable;

export const KEYS_HELP = renderHelp({
  usage: [
    "edgepool keys create --name NAME [--customer ID] [quotas] [options]",
    "edgepool keys list [options]",
    "edgepool keys revoke KEY_ID|NAME [options]",
    "edgepool keys rotate KEY_ID|NAME [--grace SECONDS] [options]",
  ],
  about: ["Manage the API keys in the store (kept as sha256 hashes; a new key is printed once)."],
  flags: KEYS_FLAGS,
  sections: [
    {
      title: "Store",
      flags: ["store"],
      text: "keys create starts a new SQLite store where --store names a file that does not exist, and says so; the other actions need an existing one.",
    },
    {
      title: "Keys",
      flags: [
        "name",
        "customer",
        "request-quota",
        "token-quota",
        "quota-period",
        "rate-limit",
        "grace",
        "json",
      ],
    },
  ],
  examples: [
    {
      say: "the first key, in a new SQLite store",
      run: "edgepool keys create --store sqlite:edgepool.db --name acme",
    },
    { say: "every key, never a secret", run: "edgepool keys list --store sqlite:edgepool.db" },
  ],
});

type KeysValues = FlagValues<typeof KEYS_FLAGS>;

/** `keys create`: a new key with its quotas; the secret is shown once. */
async function createKey(
  store: Store,
  values: KeysValues,
  period: QuotaPeriod,
  now: number,
  out: (line: string) => void,
): Promise<void> {
  const name = values.name?.trim() ?? "";
  const customer = values.customer ?? null;
  if (customer !== null && !STRIPE_CUSTOMER.test(customer)) {
    throw new UsageError(
      `--customer must be a Stripe customer id (cus_ and letters or digits), got '${customer}': usage export --format stripe sends it as stripe_customer_id`,
    );
  }
  const secret = await newSecret();
  const key = await store.keys.create({
    id: newId("key"),
    name,
    keyHash: secret.keyHash,
    keyPrefix: secret.keyPrefix,
    customer,
    requestQuota: intFlag("request-quota", values["request-quota"], 0) ?? null,
    tokenQuota: intFlag("token-quota", values["token-quota"], 0) ?? null,
    quotaPeriod: period,
    rateLimit: intFlag("rate-limit", values["rate-limit"]) ?? null,
    createdAt: now,
  });
  announce(out, values.json === true, key, secret.key, "Created");
}

/** `keys list`: every key, as a table or JSON lines; never a secret. */
async function listKeys(store: Store, json: boolean, out: (line: string) => void): Promise<void> {
  const keys = await store.keys.list();
  if (json) {
    for (const k of keys) out(JSON.stringify(describe(k)));
    return;
  }
  out(["ID", "NAME", "PREFIX", "CUSTOMER", "QUOTAS", "RATE/MIN", "STATUS"].join("\t"));
  for (const k of keys) {
    const quotas = [
      k.requestQuota === null ? null : `${k.requestQuota} req`,
      k.tokenQuota === null ? null : `${k.tokenQuota} tok`,
    ]
      .filter(Boolean)
      .join(", ");
    out(
      [
        k.id,
        k.name,
        `${k.keyPrefix}…`,
        k.customer ?? "-",
        quotas ? `${quotas} /${k.quotaPeriod}` : "-",
        k.rateLimit ?? "-",
        k.revokedAt === null ? "active" : `revoked ${new Date(k.revokedAt).toISOString()}`,
      ].join("\t"),
    );
  }
}

const ACTIONS = ["create", "list", "revoke", "rotate"];

export async function keysCommand(argv: string[], out: (line: string) => void): Promise<void> {
  const { values, positionals } = parseCommandLine(argv, KEYS_FLAGS, { positionals: true });
  const [action, ref, ...extra] = positionals;
  // Checked before the store is opened (keys create may start a new one).
  if (!action || !ACTIONS.includes(action)) {
    throw new UsageError(`keys needs an action: create, list, revoke or rotate (keys --help)`);
  }
  if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(" ")}`);
  if (action === "create" && ref) {
    throw new UsageError("keys create takes --name, not a positional argument");
  }
  if (action === "create" && !values.name?.trim()) throw new UsageError("keys create needs --name");
  const json = values.json === true;
  const period = values["quota-period"] ?? "month";
  if (period !== "day" && period !== "month") {
    throw new UsageError("--quota-period must be day or month");
  }
  const store = await openCliStore(values.store, {
    create: action === "create",
    onCreate: (message) => process.stderr.write(`edgepool keys: ${message}\n`),
    howToCreate: "start a new store with 'edgepool keys create'",
  });
  try {
    const now = Date.now();
    if (action === "create") return await createKey(store, values, period, now, out);
    if (action === "list") return await listKeys(store, json, out);
    const key = await find(store, ref);
    if (action === "revoke") {
      if (!(await store.keys.revoke(key.id, now))) {
        throw new UsageError(`key ${key.id} is already revoked`);
      }
      out(
        json
          ? JSON.stringify({ id: key.id, revoked: true })
          : `Revoked key ${key.id} (${key.name})`,
      );
      return;
    }
    const grace = (intFlag("grace", values.grace, 0) ?? 0) * 1000;
    const secret = await newSecret();
    const rotated = await store.keys.rotate(key.id, secret, now, now + grace);
    if (!rotated) throw new UsageError(`key ${key.id} is revoked`);
    announce(out, json, rotated, secret.key, "Rotated");
  } finally {
    await store.close();
  }
}
