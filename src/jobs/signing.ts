import { Webhook, WebhookVerificationError } from "standardwebhooks";

/** Standard Webhooks allows this much clock difference (the package's tolerance). */
export const WEBHOOK_TOLERANCE_MS = 5 * 60_000;

function parse(secrets: readonly string[], what: string): Webhook[] {
  return secrets
    .filter((s) => s.trim() !== "")
    .map((s) => {
      try {
        return new Webhook(s.trim());
      } catch (err) {
        throw new Error(`${what}: not a base64 (whsec_…) secret: ${(err as Error).message}`);
      }
    });
}

/**
 * Signs callbacks with every active secret (Standard Webhooks: `v1,<base64 HMAC-SHA256>` of
 * `id.timestamp.body`, space-separated), so receivers can rotate: add the new secret, then drop the
 * old one.
 */
export class CallbackSigner {
  private readonly hooks: Webhook[];

  constructor(secrets: readonly string[]) {
    this.hooks = parse(secrets, "--webhook-secret");
    if (this.hooks.length === 0) throw new Error("at least one --webhook-secret is needed");
  }

  headers(id: string, at: Date, body: string): Record<string, string> {
    return {
      "webhook-id": id,
      "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
      "webhook-signature": this.hooks.map((h) => h.sign(id, at, body)).join(" "),
    };
  }
}

/** Verifies inbound signed requests against any of the active secrets. */
export class InboundVerifier {
  private readonly hooks: Webhook[];

  constructor(secrets: readonly string[]) {
    this.hooks = parse(secrets, "--inbound-webhook-secret");
  }

  get enabled(): boolean {
    return this.hooks.length > 0;
  }

  /** Null when a secret verifies the body; else why not (missing headers, old timestamp, …). */
  check(body: string, headers: Record<string, string>): string | null {
    let why = "no matching signature";
    for (const hook of this.hooks) {
      try {
        hook.verify(body, headers, { jsonParse: false });
        return null;
      } catch (err) {
        if (!(err instanceof WebhookVerificationError)) throw err;
        why = err.message;
      }
    }
    return why;
  }
}
