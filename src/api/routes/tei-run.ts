import { toNumbers } from "../../core/index.js";
import type { Engine } from "../../engine/engine.js";
import type { PromptOptions } from "../../engine/prompts.js";
import type { RequestScope } from "../context.js";
import { infer } from "../inference.js";
import { promptsFromInput, roleOption } from "../prompts.js";
import type { RouteDeps } from "../route-deps.js";
import type { TeiEmbedBody } from "./tei.js";

/** TEI's `truncate` and `truncation_direction` as prompt options. */
export function truncation(body: {
  truncate?: boolean | null;
  truncation_direction?: string | null;
}): PromptOptions {
  if (!body.truncate) return {};
  return {
    truncatePromptTokens: -1,
    truncationSide: body.truncation_direction?.toLowerCase() === "left" ? "left" : "right",
  };
}

/** TEI's inputs with the named prompt in front. */
export function withPrefix(
  engine: Engine,
  inputs: unknown,
  limits: RouteDeps["limits"],
  name: string | null | undefined,
) {
  return engine.withPrompt(promptsFromInput(inputs, limits, "inputs"), name);
}

/**
 * A TEI request's inputs, with the named prompt in front, and its prompt options: truncation, and
 * the role the prompt name selects (`/embed`, `/embed_all`, `/embed_sparse`).
 */
export function teiInputs(
  engine: Engine,
  body: {
    inputs?: unknown;
    prompt_name?: string | null;
    truncate?: boolean | null;
    truncation_direction?: string | null;
  },
  limits: RouteDeps["limits"],
) {
  return {
    prompts: withPrefix(engine, body.inputs, limits, body.prompt_name),
    options: { ...truncation(body), ...roleOption(engine, body.prompt_name) },
  };
}

/** TEI `/embed`'s answer: one array of floats per input (the app's route and the direct path). */
export async function teiEmbedVectors(
  c: RequestScope,
  deps: RouteDeps,
  body: TeiEmbedBody,
): Promise<number[][]> {
  const { results } = await infer(c, deps, {
    needs: "embed",
    request: (engine) => {
      const { prompts, options } = teiInputs(engine, body, deps.limits);
      return {
        task: "embed",
        prompts,
        params: {
          ...options,
          dimensions: body.dimensions ?? null,
          useActivation: body.normalize ?? null,
        },
      };
    },
  });
  return results.map((r) => toNumbers(r.output as Float32Array));
}
