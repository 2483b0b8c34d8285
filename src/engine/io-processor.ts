import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { ModelConfigError, type PoolingParams, type PoolingTask } from "../core/index.js";
import type { PooledResult } from "./engine.js";
import type { Prompt, PromptOptions } from "./prompts.js";

/** What a plugin asks the engine to pool for one request. */
export interface IOProcessorInput {
  prompts: Prompt[];
  task: Exclude<PoolingTask, "score">;
  params?: PoolingParams & PromptOptions;
}

/** The engine as a plugin sees it: enough to validate inputs and read tokens. */
export interface IOProcessorContext {
  modelName: string;
  tasks: readonly PoolingTask[];
  maxModelLen: number;
}

/**
 * An IO-processor plugin (vLLM's `task: "plugin"`): turns a request's `data` into prompts for a
 * pooling task, and the pooled outputs into the response's `data`. Errors thrown as
 * `BadRequestError` become 400s.
 */
export interface IOProcessor<Data = unknown, Response = unknown> {
  readonly name: string;
  /** Validate `data` and say what to pool. */
  parseRequest(data: unknown, ctx: IOProcessorContext): IOProcessorInput & { data: Data };
  /** Build the response from the pooled outputs, in the order of `input.prompts`. */
  outputToResponse(
    outputs: readonly PooledResult[],
    input: IOProcessorInput & { data: Data },
    ctx: IOProcessorContext,
  ): Response;
}

function isProcessor(value: unknown): value is IOProcessor {
  const v = value as Partial<IOProcessor> | null;
  return (
    typeof v === "object" &&
    v !== null &&
    typeof v.name === "string" &&
    typeof v.parseRequest === "function" &&
    typeof v.outputToResponse === "function"
  );
}

/** Plugins shipped with edgepool, by name. */
const BUILT_IN: Record<string, () => Promise<IOProcessor>> = {
  "nearest-label": async () => (await import("../plugins/nearest-label.js")).nearestLabel,
};

export const BUILT_IN_IO_PROCESSORS = Object.keys(BUILT_IN);

/**
 * Load a plugin by built-in name, or from a module path (its default export, or an export named
 * `ioProcessor`): `--io-processor-plugin nearest-label` or `--io-processor-plugin ./my-plugin.js`.
 */
export async function loadIOProcessor(spec: string | IOProcessor): Promise<IOProcessor> {
  if (typeof spec !== "string") return spec;
  const builtIn = BUILT_IN[spec];
  if (builtIn) return builtIn();
  const path = resolve(spec);
  if (!existsSync(path)) {
    throw new ModelConfigError(
      `IO processor plugin '${spec}' is neither a built-in (${BUILT_IN_IO_PROCESSORS.join(", ")}) nor a module file`,
    );
  }
  const mod = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  const found = [mod.default, mod.ioProcessor].find(isProcessor);
  if (!found) {
    throw new ModelConfigError(
      `${spec} exports no IO processor (default export or \`ioProcessor\` with name, parseRequest, outputToResponse)`,
    );
  }
  return found;
}
