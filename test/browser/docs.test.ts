import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestHarness, type TestHarness } from "wrangler";
import { artifact, type Browser, browserUnavailable, openBrowser } from "../helpers/browser.js";
import { buildWorker, createEdgeKey } from "../helpers/edge.js";
import { fixture } from "../helpers/fixtures.js";
import { ROOT, type RunningServer, startServer } from "../helpers/server.js";

const unavailable = browserUnavailable();
/** Swagger UI renders a large spec: on a loaded 2-core machine one test took up to ~60 s. */
const BROWSER_TEST_MS = 240_000;

interface Sent {
  status: number;
  /** The status Swagger UI shows under "Server response". */
  shown: string;
  authorization: string | undefined;
  body: { data?: Array<{ embedding: number[] }>; error?: { type: string } };
}

/** What a page logged as errors, but for the failed requests the test makes on purpose. */
function consoleErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error" && !/status of 401/.test(m.text())) errors.push(m.text());
  });
  page.on("pageerror", (e) => errors.push(e.message));
  return errors;
}

/**
 * Open `/docs`, and send the embeddings example from the page ("Try it out" → Execute), first
 * without a key, then with `key` entered in the Authorize dialog.
 */
async function sendEmbeddingsFromPage(page: Page, base: string, key: string, shot: string) {
  const res = await page.goto(`${base}/docs`);
  expect(res?.status()).toBe(200);
  expect(res?.headers()["content-security-policy"]).toContain("script-src 'self'");
  await page.locator(".information-container .title").waitFor();
  await page.screenshot({ path: artifact(`${shot}-page.png`) });

  const op = page.locator("#operations-OpenAI-post_v1_embeddings");
  await op.locator(".opblock-summary").click();
  await op.getByRole("button", { name: "Try it out" }).click();
  const example = JSON.parse(await op.locator("textarea.body-param__text").inputValue());

  const execute = async (): Promise<Sent> => {
    const [response] = await Promise.all([
      page.waitForResponse(
        (r) => r.url() === `${base}/v1/embeddings` && r.request().method() === "POST",
      ),
      op.getByRole("button", { name: "Execute" }).click(),
    ]);
    const status = op.locator(".live-responses-table tbody .response-col_status").first();
    await expect
      .poll(async () => (await status.textContent())?.trim(), { timeout: 60_000 })
      .toBe(String(response.status()));
    return {
      status: response.status(),
      shown: (await status.textContent())?.trim() ?? "",
      authorization: (await response.request().allHeaders()).authorization,
      body: await response.json(),
    };
  };

  const anonymous = await execute();

  await page.locator(".auth-wrapper button.authorize").click();
  await page.locator("#auth-bearer-value").fill(key);
  await page.getByRole("button", { name: "Apply credentials" }).click();
  await page.locator(".modal-ux .btn-done").click();
  const authorized = await execute();

  // From the operation's header to the server's response: the request, the curl line, the answer.
  // (Boxes are relative to the viewport; a full-page clip is relative to the page.)
  const top = (await op.boundingBox())!;
  const live = (await op.locator(".live-responses-table").boundingBox())!;
  const scrollY = (await page.evaluate("window.scrollY")) as number;
  const path = artifact(`${shot}-embeddings-200.png`);
  await page.screenshot({
    path,
    fullPage: true,
    clip: { x: top.x, y: top.y + scrollY, width: top.width, height: live.y + live.height - top.y },
  });
  console.log(`screenshot: ${path}`);
  return { example, anonymous, authorized };
}

function expectVectors(sent: Sent, inputs: number) {
  expect(sent.status).toBe(200);
  expect(sent.shown).toBe("200");
  expect(sent.body.data).toHaveLength(inputs);
  for (const d of sent.body.data!) {
    expect(d.embedding).toHaveLength(32);
    expect(d.embedding.every(Number.isFinite)).toBe(true);
    expect(Math.hypot(...d.embedding)).toBeCloseTo(1, 4);
  }
}

describe.skipIf(unavailable)("/docs in headless Chromium", () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await openBrowser();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
  });

  describe("edgepool serve with --api-key", () => {
    let server: RunningServer;
    beforeAll(async () => {
      server = await startServer(["--model", fixture("bert-embed-mean"), "--api-key", "k"]);
    });
    afterAll(async () => {
      await server?.stop();
    });

    it("works offline: the page is public, a request sent from it needs the key and gets vectors", {
      timeout: BROWSER_TEST_MS,
    }, async () => {
      const page = await browser.context.newPage();
      const errors = consoleErrors(page);
      const { example, anonymous, authorized } = await sendEmbeddingsFromPage(
        page,
        server.url,
        "k",
        "docs-server",
      );
      expect(example.input).toBeInstanceOf(Array);
      expect(anonymous.status).toBe(401);
      expect(anonymous.shown).toBe("401");
      expect(anonymous.authorization).toBeUndefined();
      expect(anonymous.body.error?.type).toBe("AuthenticationError");
      expect(authorized.authorization).toBe("Bearer k");
      expectVectors(authorized, example.input.length);

      // No error, no policy violation while the page loaded and sent both requests.
      expect(errors).toEqual([]);
      // The policy holds in the browser: an inline script the page did not ship does not run.
      const inline = await page.evaluate(`(() => {
        const s = document.createElement("script");
        s.textContent = "window.__inline = true";
        document.body.append(s);
        return window.__inline ?? false;
      })()`);
      expect(inline).toBe(false);
      await expect
        .poll(() => errors.join("\n"), { timeout: 30_000 })
        .toMatch(/Content Security Policy/);
      expect(browser.offsite).toEqual([]);
      await page.close();
    });
  });

  describe("the edge Worker (workerd), in front of an origin", () => {
    const KEY = `ep-docs-${crypto.randomUUID()}`;
    let outdir: string;
    let harness: TestHarness;
    let origin: RunningServer;
    let base: string;

    beforeAll(async () => {
      outdir = await mkdtemp(join(tmpdir(), "edgepool-edge-docs-"));
      await buildWorker(outdir);
      origin = await startServer([
        "--model",
        fixture("bert-embed-mean"),
        "--api-key",
        "origin-key",
      ]);
      harness = createTestHarness({
        root: ROOT,
        workers: [
          {
            configPath: "./wrangler.jsonc",
            prebuiltWorkerDir: outdir,
            vars: { ORIGINS: [{ region: "local-1", url: origin.url, continents: [] }] },
            secrets: { ORIGIN_API_KEY: "origin-key" },
          },
        ],
      });
      base = (await harness.listen()).url.origin;
      const env = (await harness.getWorker().getEnv()) as { DB: unknown };
      await createEdgeKey(env.DB, KEY);
    }, 180_000);
    afterAll(async () => {
      await harness?.close();
      await origin?.stop();
      if (outdir) await rm(outdir, { recursive: true, force: true });
    });

    it("serves the same page; a request sent from it passes the gateway's key check to the origin", {
      timeout: BROWSER_TEST_MS,
    }, async () => {
      const page = await browser.context.newPage();
      const errors = consoleErrors(page);
      const { example, anonymous, authorized } = await sendEmbeddingsFromPage(
        page,
        base,
        KEY,
        "docs-worker",
      );
      expect(anonymous.status).toBe(401);
      expect(authorized.authorization).toBe(`Bearer ${KEY}`);
      expectVectors(authorized, example.input.length);
      expect(errors).toEqual([]);
      expect(browser.offsite).toEqual([]);
      await page.close();
    });
  });
});
