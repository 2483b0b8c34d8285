#!/usr/bin/env node
import { EdgepoolError, ModelConfigError } from "../core/index.js";
import { EMBED_HELP, embedCommand } from "./embed.js";
import { UsageError } from "./model-flags.js";
import { SERVE_HELP, serveCommand } from "./serve.js";

const HELP = `Usage: edgepool <command> [options]

Commands:
  serve    serve a model over HTTP (vLLM / OpenAI / Cohere / TEI routes)
  embed    embed texts and print the vectors as JSON
  help     show this help

Run 'edgepool <command> --help' for a command's options.`;

type Command = (argv: string[], out: (line: string) => void) => Promise<void>;

const COMMANDS: Record<string, { run: Command; help: string }> = {
  serve: { run: (argv) => serveCommand(argv), help: SERVE_HELP },
  embed: { run: embedCommand, help: EMBED_HELP },
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "help" || name === "--help" || name === "-h") {
    console.log(HELP);
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`Unknown command '${name}'.\n\n${HELP}`);
    return 2;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    console.log(command.help);
    return 0;
  }
  try {
    await command.run(rest, (line) => process.stdout.write(`${line}\n`));
    return 0;
  } catch (err) {
    const known =
      err instanceof UsageError || err instanceof ModelConfigError || err instanceof EdgepoolError;
    const isArgError =
      err instanceof TypeError && "code" in err && String(err.code).startsWith("ERR_PARSE_ARGS");
    console.error(`edgepool ${name}: ${(err as Error).message}`);
    if (!known && !isArgError) console.error((err as Error).stack);
    return known || isArgError ? 2 : 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
