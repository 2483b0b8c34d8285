import { describe, expect, it } from "vitest";
import { createApp, FAMILY_NAMES, ModelHost, ROUTE_FAMILIES } from "../../src/api/index.js";

const spec = async (app: ReturnType<typeof createApp>["app"]) =>
  (await (await app.request("/openapi.json")).json()) as {
    paths: Record<string, Record<string, unknown>>;
  };
const postPaths = (paths: Record<string, Record<string, unknown>>) =>
  Object.entries(paths)
    .filter(([, ops]) => "post" in ops)
    .map(([p]) => p)
    .filter((p) => p !== "/ping")
    .sort();

describe("route families", () => {
  it("cover every POST route of the server exactly once", async () => {
    const { app } = createApp(new ModelHost(["m"]));
    const all = Object.values(ROUTE_FAMILIES).flat();
    expect(new Set(all).size).toBe(all.length);
    expect(postPaths((await spec(app)).paths)).toEqual([...all].sort());
  });

  it.each(FAMILY_NAMES)("%s mounts only its routes, plus the operational ones", async (family) => {
    const { app } = createApp(new ModelHost(["m"]), { routes: [family] });
    expect(postPaths((await spec(app)).paths)).toEqual([...ROUTE_FAMILIES[family]].sort());
    for (const [other, paths] of Object.entries(ROUTE_FAMILIES)) {
      const res = await app.request(paths[0], {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{}",
      });
      // Mounted routes answer 503 (no model yet); the others do not exist here.
      expect(res.status, `${family}: POST ${paths[0]}`).toBe(other === family ? 503 : 404);
    }
    expect((await app.request("/health")).status).toBe(503);
  });

  it("refuses an unknown family", () => {
    expect(() => createApp(new ModelHost(["m"]), { routes: ["nope" as "rerank"] })).toThrow(
      /Unknown route family 'nope'/,
    );
  });
});
