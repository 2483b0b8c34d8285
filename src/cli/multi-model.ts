import { stat } from "node:fs/promises";
import type { Logger } from "pino";
import type { ModelHost, ModelMemory } from "../api/host.js";
import { UsageError } from "../config/usage-error.js";
import type { Engine, EngineOptions } from "../engine/index.js";
import type { Shutdown } from "./shutdown.js";

/** A further model of `serve --model a --model b`: its folder or id and its served name. */
export interface ExtraModel {
  model: string;
  servedModelName: string;
}

function flagValue(argv: readonly string[], i: number, name: string): [string, number] | null {
  const arg = argv[i]!;
  if (arg.startsWith(`${name}=`)) return [arg.slice(name.length + 1), i + 1];
  if (arg !== name) return null;
  const value = argv[i + 1];
  if (value === undefined || value.startsWith("--")) throw new UsageError(`${name} needs a value`);
  return [value, i + 2];
}

/**
 * Take the second and later `--model X [--served-model-name N]` out of `argv`: each is one more
 * model, loaded with the same engine flags as the first. A `--served-model-name` right after a
 * later `--model` names that model; elsewhere it names the first.
 */
export function splitModels(argv: readonly string[]): { argv: string[]; extras: ExtraModel[] } {
  const out: string[] = [];
  const extras: ExtraModel[] = [];
  let seen = 0;
  let i = 0;
  while (i < argv.length) {
    const model = flagValue(argv, i, "--model");
    if (!model || seen++ === 0) {
      out.push(argv[i]!);
      i++;
      continue;
    }
    i = model[1];
    const name = i < argv.length ? flagValue(argv, i, "--served-model-name") : null;
    if (name) i = name[1];
    extras.push({ model: model[0], servedModelName: name?.[0] ?? model[0] });
  }
  return { argv: out, extras };
}

/** The ONNX file's bytes and how much the process's RSS grew since `rssBefore`. */
export async function modelMemory(engine: Engine, rssBefore: number): Promise<ModelMemory> {
  const { size } = await stat(engine.onnxPath);
  return { onnx_bytes: size, rss_delta_bytes: process.memoryUsage().rss - rssBefore };
}

/**
 * Load the further models one after another (so each RSS delta is its own), each its own engine
 * with the first model's engine flags; a host is ready once its engine is.
 */
export async function loadExtraModels(
  extras: readonly ExtraModel[],
  hosts: readonly ModelHost[],
  base: EngineOptions,
  log: Logger,
  /** Each load is tracked as it starts (a shutdown closes its engine once created). */
  shutdown: Pick<Shutdown, "stopping" | "track">,
): Promise<void> {
  const { loadEngine } = await import("../engine/node/load.js");
  for (const [i, extra] of extras.entries()) {
    if (shutdown.stopping) return;
    const host = hosts[i]!;
    const rssBefore = process.memoryUsage().rss;
    try {
      const engine = await shutdown.track(loadEngine({ ...base, ...extra }));
      if (shutdown.stopping) return;
      host.memory = await modelMemory(engine, rssBefore);
      host.setReady(engine);
      log.info({ model: extra.servedModelName, memory: host.memory }, "model loaded");
    } catch (err) {
      host.setFailed((err as Error).message);
      // Named, and of its own class (the CLI's exit code depends on it).
      (err as Error).message = `${extra.model}: ${(err as Error).message}`;
      throw err;
    }
  }
}
