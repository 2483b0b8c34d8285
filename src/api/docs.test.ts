import { describe, expect, it } from "vitest";
import { buildApp } from "./app.js";
import { createApp } from "./create-app.js";
import { packageDocsAssets, swaggerUiDir } from "./docs-package.js";
import { ModelHost } from "./host.js";

describe("/docs", () => {
  it("finds swagger-ui-dist as Node resolves packages", () => {
    expect(swaggerUiDir()).toMatch(/node_modules[\\/]swagger-ui-dist$/);
    expect(swaggerUiDir("file:///nonexistent/x.js")).toBeNull();
  });

  it("without swagger-ui-dist: a 404 that names what is missing, not a blank page", async () => {
    const { app } = createApp(new ModelHost(["m"]), { docsAssets: packageDocsAssets(null) });
    for (const path of ["/docs", "/docs/swagger-ui-bundle.js"]) {
      const res = await app.request(path);
      expect(res.status, path).toBe(404);
      const body = (await res.json()) as { error: { message: string } };
      expect(body.error.message).toMatch(/swagger-ui-dist.*\/openapi\.json/);
    }
    expect((await app.request("/openapi.json")).status).toBe(200);
  });

  it("buildApp without the page's module mounts no page (the Worker's in-isolate app); the spec stays", async () => {
    const { app } = buildApp(new ModelHost(["m"]));
    expect((await app.request("/docs")).status).toBe(404);
    expect((await app.request("/openapi.json")).status).toBe(200);
  });
});
