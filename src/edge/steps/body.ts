import { problem, type Step } from "./context.js";

function modelOf(json: unknown): string | null {
  if (json === null || typeof json !== "object" || Array.isArray(json)) return null;
  const model = (json as Record<string, unknown>).model;
  return typeof model === "string" ? model : null;
}

/** Buffer the body within the payload limit (413 beyond) and read its JSON and `model`. */
export const readBody: Step = async (c, next) => {
  const req = c.req.raw;
  let body: Uint8Array<ArrayBuffer> | null = null;
  let json: unknown;
  if (req.method !== "GET" && req.method !== "HEAD") {
    const limit = c.var.config.payloadLimit;
    const tooLarge = () =>
      problem(
        413,
        `Request body is larger than the payload limit of ${limit} bytes`,
        "BadRequestError",
      );
    if (Number(req.headers.get("content-length") ?? 0) > limit) return tooLarge();
    body = new Uint8Array(await req.arrayBuffer());
    if (body.byteLength > limit) return tooLarge();
    try {
      json = JSON.parse(new TextDecoder().decode(body));
    } catch {
      json = undefined; // not JSON: the app behind answers with its own 400
    }
  }
  c.set("body", body);
  c.set("json", json);
  c.set("model", modelOf(json));
  await next();
};
