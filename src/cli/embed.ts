import { parseArgs } from "node:util";
import { engineOptions, intFlag, MODEL_FLAGS, MODEL_FLAGS_HELP } from "../config/model-flags.js";
import { LLM } from "../engine/index.js";
import { stderrLine } from "../models/progress.js";
import { fromVllmArgs } from "./vllm-args.js";

export const EMBED_HELP = `Usage: edgepool embed --model DIR [options] TEXT...

Embed each TEXT and print the vectors as a JSON array (one array per text).

Options:
  --dimensions N              truncate to N dimensions (matryoshka models)
  --truncate-prompt-tokens N  keep N tokens (special tokens kept); -1 = model maximum
  --no-normalize              skip L2 normalization

${MODEL_FLAGS_HELP}`;

export async function embedCommand(argv: string[], out: (line: string) => void): Promise<void> {
  const options = {
    ...MODEL_FLAGS,
    dimensions: { type: "string" },
    "truncate-prompt-tokens": { type: "string" },
    "no-normalize": { type: "boolean" },
  } as const;
  const { values, positionals } = parseArgs({
    args: fromVllmArgs(argv, { positionalModel: false, options }).argv,
    allowPositionals: true,
    options,
  });
  if (positionals.length === 0) throw new Error("Give at least one TEXT to embed");
  const dimensions = intFlag("dimensions", values.dimensions);
  const truncate = intFlag("truncate-prompt-tokens", values["truncate-prompt-tokens"], -1);
  const opts = engineOptions(values);
  const llm = await LLM.load({ ...opts, store: { ...opts.store, log: stderrLine } });
  try {
    const results = await llm.embed(positionals, {
      ...(dimensions !== undefined ? { dimensions } : {}),
      ...(truncate !== undefined ? { truncatePromptTokens: truncate } : {}),
      ...(values["no-normalize"] ? { useActivation: false } : {}),
    });
    out(JSON.stringify(results.map((r) => r.outputs.embedding)));
  } finally {
    await llm.close();
  }
}
