import { BadRequestError } from "../core/index.js";
import type { IOProcessor, IOProcessorContext, IOProcessorInput } from "./io-processor.js";
import type { Plan } from "./pool.js";
import type { PluginRunResult, PooledResult } from "./types.js";

/**
 * `task: "plugin"`: the IO-processor plugin turns `data` into prompts for a pooling task (pooled
 * by the plan `prepare` makes), and the pooled outputs into the response's `data`.
 */
export function pluginPlan(
  plugin: IOProcessor | null,
  view: IOProcessorContext,
  data: unknown,
  prepare: (input: IOProcessorInput) => Plan<PooledResult[]>,
): Plan<Omit<PluginRunResult, "metadata">> {
  if (!plugin) {
    throw new BadRequestError(
      `Unsupported task: 'plugin'. No IO processor plugin is loaded for "${view.modelName}" (serve it with --io-processor-plugin NAME|MODULE)`,
      "task",
    );
  }
  const input = plugin.parseRequest(data, view);
  const plan = prepare(input);
  return {
    ...plan,
    finish: (outputs) => {
      const results = plan.finish(outputs);
      return { results, response: plugin.outputToResponse(results, input, view) };
    },
  };
}
