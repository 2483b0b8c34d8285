import type { Server } from "node:http";
import type { Logger } from "pino";
import { storeServices } from "../config/store-services.js";
import { CliError } from "../config/usage-error.js";
import { prewarmWorkers } from "../engine/node/prewarm.js";
import { parseServeFlags, type ServeFlags } from "./serve-flags.js";
import {
  fallbackNote,
  loadModels,
  logLoading,
  type ModelLoad,
  servedModels,
  startModelLoad,
} from "./serve-model.js";
import { closeServices, closeWhenSettled, Shutdown } from "./shutdown.js";
import { packageVersion } from "./version.js";

/**
 * The logger, the store and the HTTP stack, loaded while the model's session loads; the app is
 * built once the session is under way (its loading would otherwise delay the model's reads).
 */
async function startStack(flags: ServeFlags, load: ModelLoad, logging: Promise<{ log: Logger }>) {
  const { log } = await logging;
  for (const note of flags.notes) log.warn(note);
  const services = await storeServices(flags.values, log, process.env, {
    redis: async (url, store, log) => {
      const { RedisLimiter } = await import("../metering/redis-limiter.js");
      return RedisLimiter.connect(
        url,
        (id, from) => store.ledger.spent(id, from),
        (err) => log.error({ err: (err as Error).message }, "redis"),
      );
    },
  });
  await load.started;
  const [{ createApp, ModelHost }, { getRequestListener }, { createServer }, { directListener }] =
    await Promise.all([
      import("../api/index.js"),
      import("@hono/node-server"),
      import("node:http"),
      import("./direct-listener.js"),
    ]);
  const host = new ModelHost([flags.servedName]);
  const extraHosts = flags.extras.map((m) => new ModelHost([m.servedModelName]));
  const { app, jobs, direct } = createApp(host, {
    models: extraHosts,
    apiKeys: flags.apiKeys,
    meter: services?.meter,
    jobs: services?.jobs,
    logger: log,
    version: packageVersion(),
    ...flags.limits,
  });
  const listen = () =>
    new Promise<Server>((resolve, reject) => {
      const { hostname, port, serverOptions } = flags.listen;
      const appListener = getRequestListener(app.fetch, { hostname });
      const s = createServer(
        serverOptions,
        direct ? directListener(direct, appListener) : appListener,
      );
      s.once("error", reject);
      s.listen(port, hostname, () => resolve(s));
    });
  return { log, services, host, extraHosts, jobs, listen };
}

/**
 * `edgepool serve`: flags first (a usage error exits at once), then the model starts loading and
 * signals are handled; the logger, store and HTTP stack load meanwhile. The server listens once
 * every model has loaded; one that fails is one line on stderr and a non-zero exit, before that.
 */
export async function serveCommand(argv: string[]): Promise<void> {
  const flags = parseServeFlags(argv);
  const opts = flags.engine;
  // The CLI started the default number of workers before loading this module; settle the count.
  prewarmWorkers(opts.workers ?? 0);
  // (Wrapped: pino's Logger type has a string index signature, which `await` reads as a `then`.)
  let logging!: Promise<{ log: Logger }>;
  const load = startModelLoad(opts, flags.fallback, () => logging);
  const shutdown = new Shutdown(flags.shutdownMs);
  shutdown.track(load.loading);
  // Loaded after the model's modules (they come first), before loadEngine runs (a later tick).
  logging = import("pino").then(({ default: pino }) => ({
    log: pino({ level: flags.level, base: { service: "edgepool" } }),
  }));
  logLoading(opts, logging);
  let stack: Awaited<ReturnType<typeof startStack>>;
  try {
    stack = await startStack(flags, load, logging);
  } catch (err) {
    await closeWhenSettled(load.loading);
    throw err;
  }
  const { log, services, host, jobs } = stack;
  // Closes what was opened, then throws: the CLI prints the error as one line.
  const fail = async (err: unknown): Promise<never> => {
    await shutdown.closeEngines();
    await closeServices(services, log);
    throw err;
  };
  const engine = await loadModels(load, { ...stack, opts, extras: flags.extras, shutdown }).catch(
    fail,
  );
  if (shutdown.stopping) return;
  const { hostname, port } = flags.listen;
  const server = await stack
    .listen()
    .catch((err: Error) =>
      fail(new CliError(`cannot listen on ${hostname}:${port}: ${err.message}`)),
    );
  host.setReady(engine);
  shutdown.serving({ server, host, log, jobs, services });
  const address = server.address();
  const url = `http://${hostname}:${typeof address === "object" && address ? address.port : port}`;
  const auth = flags.apiKeys.length > 0 || services !== null;
  const served = servedModels(load, opts, flags.extras);
  log.info({ url, ...served, ...fallbackNote(load, opts), auth }, "listening");
  if (services?.runWorker) jobs?.start();
  const { tasks, maxModelLen, device } = engine;
  // Where a lone small request computes (--inline-session): the event loop, or the worker.
  const loneRequests = engine.loneOnCallingThread ? "event loop" : "worker";
  log.info({ ...served, tasks, maxModelLen, device, loneRequests }, "model ready");
}
