import { describe, expect, it } from "vitest";
import { DEFAULT_RETRY, nominalDelay, retryDelay } from "./backoff.js";
import {
  DEFAULT_CALLBACK_POLICY,
  isNonPublicAddress,
  validateCallbackUrl,
} from "./callback-url.js";

describe("callback URLs", () => {
  const ok = (url: string, policy = DEFAULT_CALLBACK_POLICY) =>
    validateCallbackUrl(url, policy).href;
  const refused = (url: string, policy = DEFAULT_CALLBACK_POLICY) => {
    try {
      validateCallbackUrl(url, policy);
    } catch (err) {
      expect((err as { status: number }).status).toBe(400);
      return (err as Error).message;
    }
    throw new Error(`${url} was accepted`);
  };

  it("takes public https URLs by default", () => {
    expect(ok("https://hooks.example.com/cb?x=1")).toBe("https://hooks.example.com/cb?x=1");
    expect(refused("http://hooks.example.com/cb")).toMatch(/must use https/);
    expect(refused("ftp://example.com/")).toMatch(/https/);
    expect(refused("not a url")).toMatch(/not a valid absolute URL/);
    expect(refused("https://user:pw@example.com/")).toMatch(/credentials/);
  });

  it("refuses private and loopback addresses unless allowed", () => {
    for (const url of [
      "https://127.0.0.1/",
      "https://10.1.2.3/",
      "https://192.168.0.1/",
      "https://172.16.5.4/",
      "https://169.254.169.254/latest/meta-data",
      "https://[::1]/",
      "https://[fd00::1]/",
      "https://[::ffff:127.0.0.1]/",
      "https://localhost:8080/",
      // Other spellings of the same hosts.
      "https://localhost./",
      "https://LOCALHOST../",
      "https://app.localhost./cb",
      "https://localhost.localdomain/",
      "https://ip6-localhost/",
      "https://127.1/",
      "https://0x7f.1/",
      "https://0177.0.0.1/",
      "https://2130706433/",
      "https://127.0.0.1./",
      "https://0/",
      "https://[0:0:0:0:0:0:0:1]/",
      "https://[::ffff:7f00:1]/",
      "https://[::127.0.0.1]/",
      "https://[::ffff:0:7f00:1]/",
      "https://[::ffff:a9fe:a9fe]/",
      "https://[2002:7f00:1::]/",
      "https://[fec0::1]/",
      "https://192.0.2.1/",
    ]) {
      expect(refused(url)).toMatch(/private or loopback/);
    }
    const allow = { ...DEFAULT_CALLBACK_POLICY, allowPrivate: true, allowHttp: true };
    expect(ok("http://127.0.0.1:9000/cb", allow)).toBe("http://127.0.0.1:9000/cb");
    expect(isNonPublicAddress("8.8.8.8")).toBe(false);
    expect(isNonPublicAddress("2001:4860:4860::8888")).toBe(false);
  });

  it("keeps to the allow-list when there is one", () => {
    const policy = {
      ...DEFAULT_CALLBACK_POLICY,
      allowHosts: ["api.example.com", "*.hooks.example.org"],
    };
    expect(ok("https://api.example.com/x", policy)).toBeTruthy();
    expect(ok("https://a.hooks.example.org/x", policy)).toBeTruthy();
    expect(refused("https://evil.com/x", policy)).toMatch(/not in the allowed callback hosts/);
    expect(refused("https://example.com/x", policy)).toMatch(/not in the allowed/);
  });
});

describe("retry schedule", () => {
  it("doubles from 5 s to at most 1 h, with ±20% jitter", () => {
    expect([1, 2, 3, 4, 8, 12].map((n) => nominalDelay(n, DEFAULT_RETRY))).toEqual([
      5_000, 10_000, 20_000, 40_000, 640_000, 3_600_000,
    ]);
    expect(retryDelay(1, DEFAULT_RETRY, () => 0)).toBe(4_000);
    expect(retryDelay(1, DEFAULT_RETRY, () => 0.5)).toBe(5_000);
    expect(retryDelay(1, DEFAULT_RETRY, () => 0.999999)).toBe(6_000);
  });
});
