import { createRoute, z } from "@hono/zod-openapi";
import { BadRequestError } from "../../core/index.js";
import type { Meter } from "../../metering/index.js";
import { validate } from "../body.js";
import type { App } from "../context.js";
import { AuthenticationError } from "../errors.js";
import { ErrorResponse } from "../schemas.js";

const DAY_MS = 86_400_000;

/** `YYYY-MM-DD` or an ISO 8601 date-time, to epoch ms. */
const Instant = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/, "must be YYYY-MM-DD or ISO 8601")
  .transform((s, ctx) => {
    const t = Date.parse(s.length === 10 ? `${s}T00:00:00Z` : s);
    if (Number.isNaN(t)) {
      ctx.addIssue({ code: "custom", message: "is not a valid date" });
      return z.NEVER;
    }
    return t;
  });

const UsageQuery = z.strictObject({
  from: Instant.optional().openapi({
    description: "Inclusive; default: start of this UTC month",
    example: "2026-01-01",
  }),
  to: Instant.optional().openapi({
    description: "Exclusive; a bare date means the end of that day",
    example: "2026-01-31",
  }),
  group_by: z.enum(["day", "route", "model"]).optional().openapi({ example: "day" }),
});

const Totals = z.object({
  requests: z.number().int(),
  errors: z.number().int(),
  inputs: z.number().int(),
  prompt_tokens: z.number().int(),
});

const UsageResponse = z
  .object({
    object: z.literal("usage"),
    key_id: z.string(),
    from: z.string(),
    to: z.string(),
    group_by: z.enum(["day", "route", "model"]).nullable(),
    data: z.array(Totals.extend({ group: z.string().nullable() })),
    total: Totals,
  })
  .openapi("UsageResponse");

/** `GET /v1/usage?from&to&group_by=day|route|model`: the calling key's totals from the ledger. */
export function registerUsage(app: App, meter: Meter): void {
  app.openAPIRegistry.registerPath(
    createRoute({
      method: "get",
      path: "/v1/usage",
      summary: "The calling API key's usage (billable requests, inputs and prompt tokens)",
      tags: ["Metering"],
      request: { query: UsageQuery },
      responses: {
        200: { description: "Totals", content: { "application/json": { schema: UsageResponse } } },
        400: { description: "Invalid", content: { "application/json": { schema: ErrorResponse } } },
        401: { description: "No key", content: { "application/json": { schema: ErrorResponse } } },
      },
    }),
  );
  app.get("/v1/usage", async (c) => {
    const principal = c.get("principal");
    if (!principal) throw new AuthenticationError();
    const query = validate(UsageQuery, c.req.query());
    const now = meter.now();
    const start = new Date(now);
    const from = query.from ?? Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), 1);
    const rawTo = c.req.query("to");
    const to =
      query.to === undefined ? now + 1 : rawTo?.length === 10 ? query.to + DAY_MS : query.to;
    if (to <= from) throw new BadRequestError("to must be after from", "to");
    // This request's own row is not in yet; every earlier one is.
    await meter.flush();
    const rows = await meter.store.ledger.totals(principal.keyId, from, to, query.group_by ?? null);
    const data = rows.map((r) => ({
      group: r.group,
      requests: r.requests,
      errors: r.errors,
      inputs: r.inputs,
      prompt_tokens: r.promptTokens,
    }));
    const total = { requests: 0, errors: 0, inputs: 0, prompt_tokens: 0 };
    for (const d of data) {
      total.requests += d.requests;
      total.errors += d.errors;
      total.inputs += d.inputs;
      total.prompt_tokens += d.prompt_tokens;
    }
    return c.json({
      object: "usage",
      key_id: principal.keyId,
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      group_by: query.group_by ?? null,
      data,
      total,
    });
  });
}
