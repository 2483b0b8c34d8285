import { createWriteStream } from "node:fs";
import { parseArgs } from "node:util";
import { openCliStore, STORE_FLAG, STORE_FLAG_HELP } from "../config/store-flags.js";
import { UsageError } from "../config/usage-error.js";
import { csvHeader, type ExportFormat, exportLine, type MeterValue } from "../metering/export.js";
import type { ApiKey } from "../store/index.js";

export const USAGE_HELP = `Usage: edgepool usage export [--from DATE] [--to DATE] [--format csv|jsonl|stripe] [options]

Write the usage ledger's rows in [from, to) as billing records, oldest first.

  --format csv|jsonl            one record per request (every status; bill status < 400)
  --format stripe               Stripe meter events, one JSON object a line: event_name, timestamp,
                                identifier (unique per request: uploads can be retried) and
                                payload {stripe_customer_id, value}; billable requests of keys
                                with a --customer only
  --event-name NAME             Stripe meter event name (default edgepool_tokens)
  --value tokens|requests       what a meter event counts (default tokens)
  --from DATE                   inclusive, YYYY-MM-DD or ISO 8601 (default: start of this UTC month)
  --to DATE                     exclusive; a bare date means the end of that day (default: now)
  --key KEY_ID                  only this key's rows
  --output FILE                 write to FILE instead of stdout
${STORE_FLAG_HELP}`;

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
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...STORE_FLAG,
      from: { type: "string" },
      to: { type: "string" },
      format: { type: "string" },
      "event-name": { type: "string" },
      value: { type: "string" },
      key: { type: "string" },
      output: { type: "string" },
    },
  });
  if (positionals.join(" ") !== "export") {
    throw new UsageError(`usage needs the action 'export'\n\n${USAGE_HELP}`);
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

  const store = await openCliStore(values.store);
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
