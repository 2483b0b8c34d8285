import type { RequestScope } from "./context.js";
import type { RouteDeps } from "./route-deps.js";
import type { EmbeddingBody } from "./routes/openai.js";
import { embeddingsJson, runEmbeddings } from "./routes/openai-run.js";
import type { TeiEmbedBody } from "./routes/tei.js";
import { teiEmbedVectors } from "./routes/tei-run.js";

/** A route the server answers directly, for the bodies its check accepts. */
export interface DirectRoute {
  /**
   * The compiled check: true only for a body its route's schema accepts unchanged, with no field
   * the schema would drop or warn about (property-tested against the schema). Anything else goes
   * through the app, whose schema words the error.
   */
  accepts(json: unknown): boolean;
  /** Run the route's own code; the answer's JSON text. */
  answer(scope: RequestScope, deps: RouteDeps, body: unknown): Promise<string>;
}

type Check = (value: unknown) => boolean;

const nullish =
  (check: Check): Check =>
  (v) =>
    v === null || check(v);
const isString: Check = (v) => typeof v === "string";
const isBoolean: Check = (v) => typeof v === "boolean";
/** zod's `.int()`: a safe integer. */
const isInt: Check = (v) => Number.isSafeInteger(v);

/** A text or a list of texts (token-id inputs take the app's path). */
const isTexts: Check = (v) => {
  if (typeof v === "string") return true;
  if (!Array.isArray(v)) return false;
  for (const x of v) if (typeof x !== "string") return false;
  return true;
};

/** A JSON object with `required` present and every field known and of its checked type. */
function objectOf(fields: Readonly<Record<string, Check>>, required: string): Check {
  return (json) => {
    if (typeof json !== "object" || json === null || Array.isArray(json)) return false;
    const body = json as Record<string, unknown>;
    if (!Object.hasOwn(body, required)) return false;
    for (const key in body) {
      if (!Object.hasOwn(fields, key) || !fields[key]!(body[key])) return false;
    }
    return true;
  };
}

/** `/v1/embeddings`: texts, the model, float or base64 JSON, dimensions and truncation. */
export const acceptsEmbeddings = objectOf(
  {
    input: isTexts,
    model: nullish(isString),
    encoding_format: nullish((v) => v === "float" || v === "base64"),
    dimensions: nullish(isInt),
    truncate_prompt_tokens: nullish((v) => isInt(v) && (v as number) >= -1),
    user: nullish(isString),
  },
  "input",
);

/** TEI's `/embed`: texts, normalize, dimensions and truncation. */
export const acceptsTeiEmbed = objectOf(
  {
    inputs: isTexts,
    normalize: nullish(isBoolean),
    dimensions: nullish(isInt),
    truncate: nullish(isBoolean),
  },
  "inputs",
);

const embeddings: DirectRoute = {
  accepts: acceptsEmbeddings,
  async answer(scope, deps, json) {
    const body = json as EmbeddingBody;
    const { results } = await runEmbeddings(scope, deps, body);
    return embeddingsJson(scope, deps, body, results);
  },
};

const teiEmbed: DirectRoute = {
  accepts: acceptsTeiEmbed,
  async answer(scope, deps, json) {
    return JSON.stringify(await teiEmbedVectors(scope, deps, json as TeiEmbedBody));
  },
};

/** The routes the direct path serves, by path. */
export function directRoutes(): Map<string, DirectRoute> {
  return new Map([
    ["/v1/embeddings", embeddings],
    ["/embeddings", embeddings],
    ["/embed", teiEmbed],
  ]);
}
