import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium } from "playwright-core";
import { ROOT } from "./server.js";

/** Debian's package (`apt-get install chromium`; `.ci/run` installs it). Nothing is downloaded. */
export const CHROMIUM = process.env.EDGEPOOL_CHROMIUM || "/usr/bin/chromium";

/** Where browser tests keep their screenshots (gitignored). */
export const ARTIFACTS = join(ROOT, "test", "artifacts");

/** Headless, offline, and a fresh profile: no sync, no component or safe-browsing downloads. */
const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/**
 * Why the browser tests cannot run here, or null. With `EDGEPOOL_REQUIRE_BROWSER=1` (`.ci/run`,
 * which installs the browser) a missing one is an error instead of a skip.
 */
export function browserUnavailable(): string | null {
  if (existsSync(CHROMIUM)) return null;
  const why = `no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set EDGEPOOL_CHROMIUM)`;
  if (process.env.EDGEPOOL_REQUIRE_BROWSER === "1") throw new Error(why);
  console.warn(`Skipping the browser tests: ${why}`);
  return why;
}

export interface Browser {
  context: BrowserContext;
  /** Every request the pages tried to send anywhere but this machine (each was refused). */
  offsite: string[];
  close(): Promise<void>;
}

/** Chromium on a fresh profile; requests leaving 127.0.0.1/localhost are refused and recorded. */
export async function openBrowser(): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), "edgepool-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport: { width: 1280, height: 900 },
  });
  // Generous: a shared, loaded CI machine renders Swagger UI slowly; nothing here waits on timing.
  context.setDefaultTimeout(120_000);
  const offsite: string[] = [];
  await context.route("**/*", (route) => {
    const { hostname } = new URL(route.request().url());
    if (hostname === "127.0.0.1" || hostname === "localhost") return route.continue();
    offsite.push(route.request().url());
    return route.abort();
  });
  return {
    context,
    offsite,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** A path for a screenshot under test/artifacts/. */
export function artifact(name: string): string {
  mkdirSync(ARTIFACTS, { recursive: true });
  return join(ARTIFACTS, name);
}
