import { parseArgs } from "node:util";
import { intFlag } from "../config/model-flags.js";
import { openCliStore, STORE_FLAG, STORE_FLAG_HELP } from "../config/store-flags.js";
import { UsageError } from "../config/usage-error.js";
import { newId, newSecret } from "../metering/index.js";
import type { ApiKey, QuotaPeriod, Store } from "../store/index.js";

export const KEYS_HELP = `Usage: edgepool keys <create|list|revoke|rotate> [options]

Manage the API keys in the store (kept as sha256 hashes; a new key is printed once).

  keys create --name NAME [--customer ID] [--request-quota N] [--token-quota N]
              [--quota-period day|month] [--rate-limit N]
  keys list
  keys revoke KEY_ID|NAME
  keys rotate KEY_ID|NAME [--grace SECONDS]

Options:
${STORE_FLAG_HELP}
  --name NAME                   a label for the key (unique names make revoke/rotate by name easy)
  --customer cus_…              the key's Stripe customer id, for usage export --format stripe
  --request-quota N             billable requests per period (default unlimited)
  --token-quota N               prompt tokens per period (default unlimited)
  --quota-period day|month      UTC calendar period of the quotas (default month)
  --rate-limit N                requests per minute (default unlimited)
  --grace SECONDS               rotate: the old key keeps working this long (default 0)
  --json                        print JSON instead of text`;

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
  name: { type: "string" },
  customer: { type: "string" },
  "request-quota": { type: "string" },
  "token-quota": { type: "string" },
  "quota-period": { type: "string" },
  "rate-limit": { type: "string" },
  grace: { type: "string" },
  json: { type: "boolean" },
} as const;

type KeysValues = ReturnType<typeof parseArgs<{ options: typeof KEYS_FLAGS }>>["values"];

/** `keys create`: a new key with its quotas; the secret is shown once. */
async function createKey(
  store: Store,
  values: KeysValues,
  period: QuotaPeriod,
  now: number,
  out: (line: string) => void,
): Promise<void> {
  const name = values.name?.trim();
  if (!name) throw new UsageError("keys create needs --name");
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

export async function keysCommand(argv: string[], out: (line: string) => void): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: KEYS_FLAGS,
  });
  const [action, ref, ...extra] = positionals;
  if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(" ")}`);
  const json = values.json === true;
  const period = values["quota-period"] ?? "month";
  if (period !== "day" && period !== "month") {
    throw new UsageError("--quota-period must be day or month");
  }
  const store = await openCliStore(values.store);
  try {
    const now = Date.now();
    switch (action) {
      case "create":
        if (ref) throw new UsageError("keys create takes --name, not a positional argument");
        return await createKey(store, values, period, now, out);
      case "list":
        return await listKeys(store, json, out);
      case "revoke": {
        const key = await find(store, ref);
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
      case "rotate": {
        const key = await find(store, ref);
        const grace = (intFlag("grace", values.grace, 0) ?? 0) * 1000;
        const secret = await newSecret();
        const rotated = await store.keys.rotate(key.id, secret, now, now + grace);
        if (!rotated) throw new UsageError(`key ${key.id} is revoked`);
        announce(out, json, rotated, secret.key, "Rotated");
        return;
      }
      default:
        throw new UsageError(
          `keys needs an action: create, list, revoke or rotate\n\n${KEYS_HELP}`,
        );
    }
  } finally {
    await store.close();
  }
}
