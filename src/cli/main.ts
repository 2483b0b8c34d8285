#!/usr/bin/env node
import { prewarmWorkers } from "../engine/node/prewarm.js";
import { DEFAULT_SERVE_WORKERS } from "./serve-limits.js";

const HELP = `Usage: edgepool <command> [options]

Commands:
  serve    serve a model over HTTP (vLLM / OpenAI / Cohere / TEI routes)
  embed    embed texts and print the vectors as JSON
  pin      pin a model (Hub id or folder) to an s3:// or r2:// bucket by sha256 manifest
  verify   re-hash a pinned model in its bucket against its manifest
  quantize write an int8 copy of a model's ONNX graph (served with --dtype q8)
  keys     create, list, revoke or rotate the API keys in the store
  usage    export the usage ledger (csv, jsonl, Stripe meter events)
  help     show this help

Run 'edgepool <command> --help' for a command's options.`;

type Command = (argv: string[], out: (line: string) => void) => Promise<void>;

/** Each command's module is loaded only when it runs (start-up time matters for serve). */
const COMMANDS: Record<string, () => Promise<{ run: Command; help: string }>> = {
  serve: async () => {
    const m = await import("./serve.js");
    return { run: (argv) => m.serveCommand(argv), help: m.SERVE_HELP };
  },
  embed: async () => {
    const m = await import("./embed.js");
    return { run: m.embedCommand, help: m.EMBED_HELP };
  },
  pin: async () => {
    const m = await import("./pin.js");
    return { run: m.pinCommand, help: m.PIN_HELP };
  },
  verify: async () => {
    const m = await import("./pin.js");
    return { run: m.verifyCommand, help: m.VERIFY_HELP };
  },
  quantize: async () => {
    const m = await import("./quantize.js");
    return { run: m.quantizeCommand, help: m.QUANTIZE_HELP };
  },
  keys: async () => {
    const m = await import("./keys.js");
    return { run: m.keysCommand, help: m.KEYS_HELP };
  },
  usage: async () => {
    const m = await import("./usage.js");
    return { run: m.usageCommand, help: m.USAGE_HELP };
  },
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "help" || name === "--help" || name === "-h") {
    console.log(HELP);
    return 0;
  }
  const load = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!load) {
    console.error(`Unknown command '${name}'.\n\n${HELP}`);
    return 2;
  }
  // serve's session thread boots and loads ONNX Runtime while the CLI loads; serve settles the
  // count once its flags are read (--workers, or a vLLM --config file).
  const wantsHelp = rest.includes("--help") || rest.includes("-h");
  if (name === "serve" && !wantsHelp && !rest.some((a) => a.startsWith("--workers"))) {
    prewarmWorkers(DEFAULT_SERVE_WORKERS);
  }
  const command = await load();
  if (wantsHelp) {
    console.log(command.help);
    return 0;
  }
  try {
    await command.run(rest, (line) => process.stdout.write(`${line}\n`));
    return 0;
  } catch (err) {
    const [{ EdgepoolError, ModelConfigError }, { ModelStoreError }, { UsageError }] =
      await Promise.all([
        import("../core/errors.js"),
        import("../models/errors.js"),
        import("../config/usage-error.js"),
      ]);
    const known =
      err instanceof UsageError ||
      err instanceof ModelConfigError ||
      err instanceof EdgepoolError ||
      err instanceof ModelStoreError;
    const isArgError =
      err instanceof TypeError && "code" in err && String(err.code).startsWith("ERR_PARSE_ARGS");
    console.error(`edgepool ${name}: ${(err as Error).message}`);
    if (!known && !isArgError) console.error((err as Error).stack);
    return known || isArgError ? 2 : 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
