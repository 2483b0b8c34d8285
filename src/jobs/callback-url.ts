import { BlockList, isIP } from "node:net";
import { BadRequestError } from "../core/index.js";

/** Where callbacks may go (`--callback-allow-http`, `--callback-allow-private`, `--callback-allow-host`). */
export interface CallbackPolicy {
  /** Plain http:// besides https:// (default false). */
  allowHttp: boolean;
  /** Private, loopback, link-local and other non-public addresses (default false). */
  allowPrivate: boolean;
  /** Only these hosts (`example.com`, or `*.example.com` for its subdomains); null = any. */
  allowHosts: readonly string[] | null;
}

export const DEFAULT_CALLBACK_POLICY: CallbackPolicy = {
  allowHttp: false,
  allowPrivate: false,
  allowHosts: null,
};

const MAX_URL_LENGTH = 2048;

const NON_PUBLIC = new BlockList();
for (const [net, bits] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.0.2.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["198.51.100.0", 24],
  ["203.0.113.0", 24],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
] as const) {
  NON_PUBLIC.addSubnet(net, bits, "ipv4");
}
for (const [net, bits] of [
  // The unspecified and loopback addresses, and IPv4 embedded as IPv4-compatible (::a.b.c.d)
  // or IPv4-translated (::ffff:0:a.b.c.d) addresses; IPv4-mapped ones are checked as IPv4.
  ["::", 96],
  ["::ffff:0:0:0", 96],
  ["100::", 64],
  ["2001:db8::", 32],
  ["2002::", 16],
  ["fec0::", 10],
  ["fc00::", 7],
  ["fe80::", 10],
  ["ff00::", 8],
  ["64:ff9b::", 96],
] as const) {
  NON_PUBLIC.addSubnet(net, bits, "ipv6");
}

/** True for loopback, private, link-local, carrier-grade NAT, multicast and reserved addresses. */
export function isNonPublicAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return NON_PUBLIC.check(mapped[1]!, "ipv4");
  const family = isIP(address);
  if (family === 0) return true;
  return NON_PUBLIC.check(address, family === 4 ? "ipv4" : "ipv6");
}

/** Names that mean this machine, whatever the resolver says (RFC 6761, Debian's hosts file). */
const LOOPBACK_NAMES = new Set([
  "localhost",
  "localhost.localdomain",
  "ip6-localhost",
  "ip6-loopback",
]);

function isLoopbackName(host: string): boolean {
  return LOOPBACK_NAMES.has(host) || host.endsWith(".localhost");
}

function hostAllowed(host: string, allow: readonly string[]): boolean {
  return allow.some((rule) => {
    const r = rule.toLowerCase();
    return r.startsWith("*.") ? host.endsWith(r.slice(1)) : host === r;
  });
}

/**
 * Check a callback URL when a job is submitted: https (or http when allowed), no credentials,
 * an allowed host, and no literal non-public address. Names are checked again, resolved, when a
 * callback is sent.
 */
export function validateCallbackUrl(value: string, policy: CallbackPolicy): URL {
  const fail = (why: string) => new BadRequestError(`callback_url ${why}`, "callback_url");
  if (value.length > MAX_URL_LENGTH) throw fail(`is longer than ${MAX_URL_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw fail("is not a valid absolute URL");
  }
  if (url.protocol !== "https:" && !(policy.allowHttp && url.protocol === "http:")) {
    throw fail(
      policy.allowHttp ? "must use http or https" : "must use https (see --callback-allow-http)",
    );
  }
  if (url.username || url.password) throw fail("must not contain credentials");
  // `localhost.` and `localhost` name the same host (a fully qualified name's trailing dot).
  const host = url.hostname
    .replace(/^\[|\]$/g, "")
    .toLowerCase()
    .replace(/\.+$/, "");
  if (policy.allowHosts && !hostAllowed(host, policy.allowHosts)) {
    throw fail(`host '${host}' is not in the allowed callback hosts`);
  }
  if (!policy.allowPrivate) {
    const literal = isIP(host) !== 0;
    if ((literal && isNonPublicAddress(host)) || isLoopbackName(host) || host === "") {
      throw fail(
        `must not point at a private or loopback address ('${host}'; see --callback-allow-private)`,
      );
    }
  }
  return url;
}
