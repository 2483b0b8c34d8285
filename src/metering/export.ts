import type { ApiKey, LedgerRow } from "../store/index.js";

export type ExportFormat = "csv" | "jsonl" | "stripe";

/** What a Stripe meter event counts per request. */
export type MeterValue = "tokens" | "requests";

export const CSV_COLUMNS = [
  "id",
  "time",
  "key_id",
  "key_name",
  "customer",
  "route",
  "model",
  "inputs",
  "prompt_tokens",
  "status",
  "duration_ms",
  "request_id",
] as const;

function record(row: LedgerRow, key: ApiKey | undefined) {
  return {
    id: row.id,
    time: new Date(row.createdAt).toISOString(),
    key_id: row.keyId,
    key_name: key?.name ?? null,
    customer: key?.customer ?? null,
    route: row.route,
    model: row.model,
    inputs: row.inputs,
    prompt_tokens: row.promptTokens,
    status: row.status,
    duration_ms: Math.round(row.durationMs * 1000) / 1000,
    request_id: row.requestId,
  };
}

function csvField(v: unknown): string {
  const s = v === null || v === undefined ? "" : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

export function csvHeader(): string {
  return CSV_COLUMNS.join(",");
}

/** One billing record: a CSV line, a JSON line, or a Stripe meter event (null when not billable). */
export function exportLine(
  format: ExportFormat,
  row: LedgerRow,
  key: ApiKey | undefined,
  stripe: { eventName: string; value: MeterValue },
): string | null {
  if (format === "csv") {
    const r = record(row, key);
    return CSV_COLUMNS.map((c) => csvField(r[c])).join(",");
  }
  if (format === "jsonl") return JSON.stringify(record(row, key));
  const value = stripe.value === "tokens" ? row.promptTokens : 1;
  if (row.status >= 400 || value === 0 || !key?.customer) return null;
  // Stripe's meter event: the ledger row's id is unique per request, so an upload can be retried.
  return JSON.stringify({
    event_name: stripe.eventName,
    timestamp: Math.floor(row.createdAt / 1000),
    identifier: row.id,
    payload: { stripe_customer_id: key.customer, value: String(value) },
  });
}
