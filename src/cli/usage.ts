import { createWriteStream } from "node:fs";
import type { FlagTable } from "../config/flags.js";
import { STORE_FLAG } from "../config/store-flags.js";
import { openCliStore } from "../config/store-services.js";
import { UsageError } from "../config/usage-error.js";
import { csvHeader, type ExportFormat, exportLine, type MeterValue } from "../metering/export.js";
import type { ApiKey } from "../store/index.js";
import { parseCommandLine } from "./args.js";
import { renderHelp } from "./help.js";

const USAGE_FLAGS = {
  format: {
    type: "string",
    value: "csv|jsonl|stripe",
    help: "csv or jsonl: one record per request (every status; bill status < 400). stripe: Stripe meter events, one JSON object a line: event_name, timestamp, identifier (unique per request: uploads can be retried) and payload {stripe_customer_id, value}; billable requests of keys with a --customer only",
    shown: "csv",
  },
  "event-name": {
    type: "string",
    value: "NAME",
    help: "Stripe meter event name",
    shown: "edgepool_tokens",
  },
  value: {
    type: "string",
    value: "tokens|requests",
    help: "what a meter event counts",
    shown: "tokens",
  },
  from: {
    type: "string",
    value: "DATE",
    help: "inclusive, YYYY-MM-DD or ISO 8601",
    shown: "the start of this UTC month",
  },
  to: {
    type: "string",
    value: "DATE",
    help: "exclusive; a bare date means the end of that day",
    shown: "now",
  },
  key: { type: "string", value: "KEY_ID", help: "only this key's rows" },
  output: { type: "string", value: "FILE", help: "write to FILE instead of stdout" },
  ...STORE_FLAG,
} as const satisfies FlagTable;

export const USAGE_HELP = renderHelp({
  usage: ["edgepool usage export [--from DATE] [--to DATE] [--format F] [options]"],
  about: ["Write the usage ledger's rows in [from, to) as billing records, oldest first."],
  flags: USAGE_FLAGS,
  sections: [{ title: "Options", flags: Object.keys(USAGE_FLAGS) as (keyof typeof USAGE_FLAGS)[] }],
  examples: [
    {
      say: "this month's requests as CSV",
      run: "edgepool usage export --store sqlite:edgepool.db",
    },
    {
      say: "December's Stripe meter events, from the store EDGEPOOL_STORE names",
      run: "edgepool usage export --format stripe --from 2026-12-01 --to 2026-12-31",
    },
  ],
});

const DAY_MS = 86_400_000;

function instant(flag: string, text: string | undefined, endOfDay: boolean): number | undefined {
  if (text === undefined) return undefined;
  const bare = /^\d{4}-\d{2}-\d{2}$/.test(text);
  const t = Date.parse(bare ? `${text}T00:00:00Z` : text);
  if (Number.isNaN(t) || !/^\d{4}-\d{2}-\d{2}/.test(text)) {
    throw new UsageError(`--${flag} must be YYYY-MM-DD or an ISO 8601 date-time`);
  }
  return bare && endOfDay ? t + DAY_MS : t;
}

export async function usageCommand(argv: string[], out: (line: string) => void): Promise<void> {
  const { values, positionals } = parseCommandLine(argv, USAGE_FLAGS, { positionals: true });
  if (positionals.join(" ") !== "export") {
    throw new UsageError("usage needs the action 'export' (usage --help)");
  }
  const format = (values.format ?? "csv") as ExportFormat;
  if (!["csv", "jsonl", "stripe"].includes(format)) {
    throw new UsageError("--format must be csv, jsonl or stripe");
  }
  const value = (values.value ?? "tokens") as MeterValue;
  if (value !== "tokens" && value !== "requests") {
    throw new UsageError("--value must be tokens or requests");
  }
  const eventName = values["event-name"] ?? "edgepool_tokens";
  if (!/^[\w.-]{1,100}$/.test(eventName))
    throw new UsageError("--event-name: letters, digits, _ . -");
  const now = new Date();
  const from =
    instant("from", values.from, false) ?? Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
  const to = instant("to", values.to, true) ?? now.getTime() + 1;
  if (to <= from) throw new UsageError("--to must be after --from");

  const store = await openCliStore(values.store, {
    howToCreate: "start a new store with 'edgepool keys create'",
  });
  const file = values.output ? createWriteStream(values.output) : null;
  const write = file ? (line: string) => file.write(`${line}\n`) : out;
  try {
    const keys = new Map<string, ApiKey>((await store.keys.list()).map((k) => [k.id, k]));
    if (format === "csv") write(csvHeader());
    let skipped = 0;
    for await (const row of store.ledger.rows(from, to)) {
      if (values.key && row.keyId !== values.key) continue;
      const line = exportLine(format, row, keys.get(row.keyId), { eventName, value });
      if (line === null) skipped++;
      else write(line);
    }
    if (format === "stripe" && skipped > 0) {
      process.stderr.write(
        `edgepool usage: ${skipped} rows not exported as meter events (errors, zero value, or a key without --customer)\n`,
      );
    }
  } finally {
    await store.close();
    if (file)
      await new Promise<void>((resolve, reject) =>
        file.end((err?: Error | null) => (err ? reject(err) : resolve())),
      );
  }
}
