#!/usr/bin/env node
import { DEFAULT_SERVE_WORKERS } from "../config/serve-limits.js";
import { prewarmWorkers } from "../engine/node/prewarm.js";
import { failureOf } from "./failure.js";
import { holdYoungGeneration } from "./heap.js";

type Command = (argv: string[], out: (line: string) => void) => Promise<void>;

/** Each command and its help, loaded only when used (start-up time matters for serve). */
const COMMANDS: Record<
  string,
  { about: string; run: () => Promise<Command>; help: () => Promise<string> }
> = {
  serve: {
    about: "serve models over HTTP (vLLM, OpenAI, Cohere, TEI routes)",
    run: async () => (await import("./serve.js")).serveCommand,
    help: async () => (await import("./serve-help.js")).SERVE_HELP,
  },
  embed: {
    about: "embed texts and print the vectors as JSON",
    run: async () => (await import("./embed.js")).embedCommand,
    help: async () => (await import("./embed.js")).EMBED_HELP,
  },
  pin: {
    about: "pin a model to an s3:// or r2:// bucket by sha256 manifest",
    run: async () => (await import("./pin.js")).pinCommand,
    help: async () => (await import("./pin.js")).PIN_HELP,
  },
  verify: {
    about: "re-hash a pinned model in its bucket against its manifest",
    run: async () => (await import("./pin.js")).verifyCommand,
    help: async () => (await import("./pin.js")).VERIFY_HELP,
  },
  quantize: {
    about: "write an int8 copy of a model's ONNX graph (serve --dtype q8)",
    run: async () => (await import("./quantize.js")).quantizeCommand,
    help: async () => (await import("./quantize.js")).QUANTIZE_HELP,
  },
  keys: {
    about: "create, list, revoke or rotate the API keys in the store",
    run: async () => (await import("./keys.js")).keysCommand,
    help: async () => (await import("./keys.js")).KEYS_HELP,
  },
  usage: {
    about: "export the usage ledger (CSV, JSON lines, Stripe meter events)",
    run: async () => (await import("./usage.js")).usageCommand,
    help: async () => (await import("./usage.js")).USAGE_HELP,
  },
};

const HELP = `Usage: edgepool <command> [options]

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(10)}${c.about}`)
  .join("\n")}
  help      a command's options: edgepool help serve (or serve --help)

Options:
  --version print edgepool's version
  --help    print this help`;

const commandOf = (name: string) => (Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined);

/** Once the reader of stdout has gone (`edgepool usage export | head`), stop quietly. */
function exitQuietlyOnClosedStdout(): void {
  process.stdout.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") process.exit(0);
    throw err;
  });
}

async function main(argv: string[]): Promise<number> {
  exitQuietlyOnClosedStdout();
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || (name === "help" && !rest[0])) {
    console.log(HELP);
    return 0;
  }
  if (name === "--version" || name === "-v" || name === "version") {
    console.log((await import("./version.js")).packageVersion());
    return 0;
  }
  const wantsHelp = name === "help" || rest.includes("--help") || rest.includes("-h");
  const commandName = name === "help" ? rest[0]! : name;
  const command = commandOf(commandName);
  if (!command) {
    console.error(
      `edgepool: Unknown command '${commandName}'; the commands: ${Object.keys(COMMANDS).join(", ")} (edgepool --help)`,
    );
    return 2;
  }
  if (wantsHelp) {
    console.log(await command.help());
    return 0;
  }
  if (name === "serve") holdYoungGeneration();
  // serve's session thread boots and loads ONNX Runtime while the CLI loads; serve settles the
  // count once its flags are read (--workers, or a vLLM --config file).
  if (name === "serve" && !rest.some((a) => a.startsWith("--workers"))) {
    prewarmWorkers(DEFAULT_SERVE_WORKERS);
  }
  try {
    await (await command.run())(rest, (line) => process.stdout.write(`${line}\n`));
    return 0;
  } catch (err) {
    const failure = await failureOf(err);
    console.error(`edgepool ${name}: ${failure.message}`);
    if (failure.stack) console.error(failure.stack);
    return failure.exitCode;
  }
}

process.exitCode = await main(process.argv.slice(2));
