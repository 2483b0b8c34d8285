import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { ModelConfigError } from "../../core/index.js";
import { BUILT_IN_IO_PROCESSORS } from "../../plugins/index.js";
import type { IOProcessor } from "../io-processor.js";

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

/**
 * Load a plugin by built-in name, or from a module path (its default export, or an export named
 * `ioProcessor`): `--io-processor-plugin nearest-label` or `--io-processor-plugin ./my-plugin.js`.
 */
export async function loadIOProcessor(spec: string | IOProcessor): Promise<IOProcessor> {
  if (typeof spec !== "string") return spec;
  const builtIn = Object.hasOwn(BUILT_IN_IO_PROCESSORS, spec)
    ? BUILT_IN_IO_PROCESSORS[spec]
    : undefined;
  if (builtIn) return builtIn();
  const path = resolve(spec);
  if (!existsSync(path)) {
    throw new ModelConfigError(
      `IO processor plugin '${spec}' is neither a built-in (${Object.keys(BUILT_IN_IO_PROCESSORS).join(", ")}) nor a module file`,
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
