import { engineOptions } from "../config/engine-options.js";
import { type FlagTable, intFlag } from "../config/flags.js";
import {
  BATCH_FLAGS,
  MODEL_CONFIG_FLAGS,
  MODEL_SOURCE_FLAGS,
  RUNTIME_FLAGS,
} from "../config/model-flags.js";
import { UsageError } from "../config/usage-error.js";
import { LLM } from "../engine/index.js";
import { stderrLine } from "../models/progress.js";
import { parseCommandLine } from "./args.js";
import { type CommandSpec, renderHelp } from "./help.js";
import { fromVllmArgs } from "./vllm-args.js";

const EMBED_FLAGS = {
  dimensions: {
    type: "string",
    value: "N",
    help: "keep the first N dimensions (matryoshka models)",
  },
  "truncate-prompt-tokens": {
    type: "string",
    value: "N",
    help: "keep N tokens of each text (special tokens kept); -1: the model's maximum",
  },
  "no-normalize": { type: "boolean", help: "skip the L2 normalization" },
  ...MODEL_SOURCE_FLAGS,
  ...MODEL_CONFIG_FLAGS,
  ...BATCH_FLAGS,
  ...RUNTIME_FLAGS,
} as const satisfies FlagTable;

const EMBED_COMMAND: CommandSpec<typeof EMBED_FLAGS> = {
  usage: ["edgepool embed --model MODEL [options] TEXT..."],
  about: ["Embed each TEXT and print the vectors as one JSON array (an array per text)."],
  flags: EMBED_FLAGS,
  sections: [
    { title: "Embedding", flags: ["dimensions", "truncate-prompt-tokens", "no-normalize"] },
    { title: "Model", flags: Object.keys(MODEL_SOURCE_FLAGS) as (keyof typeof EMBED_FLAGS)[] },
    {
      title: "How the model is read (vLLM's flags)",
      flags: Object.keys(MODEL_CONFIG_FLAGS) as (keyof typeof EMBED_FLAGS)[],
    },
    {
      title: "Batching and threads",
      flags: Object.keys({ ...BATCH_FLAGS, ...RUNTIME_FLAGS }) as (keyof typeof EMBED_FLAGS)[],
    },
  ],
  examples: [
    {
      say: "two texts, two vectors",
      run: 'edgepool embed --model ./bge-small-en-v1.5 "hello world" "a cat"',
    },
    {
      say: "a matryoshka model's first 8 dimensions",
      run: 'edgepool embed --model ./bge-small-en-v1.5 --dimensions 8 "hello world"',
    },
  ],
};

export const EMBED_HELP = renderHelp(EMBED_COMMAND);

export async function embedCommand(argv: string[], out: (line: string) => void): Promise<void> {
  const { values, positionals } = parseCommandLine(
    fromVllmArgs(argv, { positionalModel: false, options: EMBED_FLAGS }).argv,
    EMBED_FLAGS,
    { positionals: true },
  );
  if (positionals.length === 0) throw new UsageError("give at least one TEXT to embed");
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
