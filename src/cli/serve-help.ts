import { type CommandSpec, renderHelp } from "./help.js";
import { SERVE_FLAGS } from "./serve-flags.js";

/** `edgepool serve --help`: the model first, then the server, its limits, metering and jobs. */
export const SERVE_COMMAND: CommandSpec<typeof SERVE_FLAGS> = {
  usage: ["edgepool serve [MODEL] [options]      (MODEL: the same as --model)"],
  about: [
    "Serve pooling models over HTTP: vLLM's pooling routes, OpenAI /v1/embeddings, Cohere and Jina rerank, and TEI's routes.",
    "The server listens once the model has loaded and says what it serves; a model that cannot be loaded is one line on stderr and exit 1, before it listens.",
  ],
  flags: SERVE_FLAGS,
  sections: [
    {
      title: "Model",
      flags: [
        "model",
        "served-model-name",
        "fallback-model",
        "revision",
        "dtype",
        "onnx-file",
        "cache-dir",
        "s3-endpoint",
        "s3-timeout",
      ],
      text: 'Repeat --model to serve several models in one process; a --served-model-name right after a later --model names that one. A request picks one by its "model" field (none: the first). Each has its own engine, scheduler and limits, from the same flags.',
    },
    {
      title: "How the model is read (vLLM's flags)",
      flags: [
        "runner",
        "convert",
        "pooler-config",
        "hf-overrides",
        "score-template",
        "io-processor-plugin",
        "max-model-len",
        "auto-truncate",
      ],
      text: "vLLM's spellings work too: --flag_name for --flag-name, --override-pooler-config for --pooler-config, --task embed|classify|score|reward for --convert (with a warning); --trust-remote-code is accepted and does nothing (no model code runs).",
    },
    {
      title: "Server",
      flags: [
        "host",
        "port",
        "api-key",
        "log-level",
        "shutdown-timeout",
        "headers-timeout",
        "request-timeout",
        "keep-alive-timeout",
        "trust-request-chat-template",
        "chat-template-timeout",
      ],
    },
    {
      title: "Request limits",
      flags: [
        "max-concurrent-requests",
        "max-client-batch-size",
        "payload-limit",
        "max-response-bytes",
        "max-input-chars",
        "max-request-tokens",
      ],
    },
    {
      title: "Batching and threads",
      flags: [
        "workers",
        "inline-session",
        "max-batch-size",
        "max-batch-tokens",
        "max-batch-tokens-per-request",
        "min-batch-efficiency",
        "device",
        "intra-op-threads",
        "inter-op-threads",
        "graph-optimization-level",
        "no-mem-arena",
        "spinning",
        "mapped-weights",
      ],
    },
    {
      title: "Metering and keys",
      flags: ["store", "create", "billable", "limits-store", "key-cache-ms", "ledger-flush-ms"],
      text: "With a store, every request needs a key: one made with 'edgepool keys create', or an --api-key.",
    },
    {
      title: "Webhook reranking (POST /v1/rerank/jobs: needs --store and --webhook-secret)",
      flags: [
        "webhook-secret",
        "inbound-webhook-secret",
        "callback-allow-host",
        "callback-allow-http",
        "callback-allow-private",
        "callback-timeout-ms",
        "job-attempts",
        "job-backoff-ms",
        "job-backoff-max-ms",
        "job-lease-ms",
        "job-concurrency",
        "job-poll-ms",
        "job-worker",
      ],
    },
  ],
  examples: [
    { say: "a model folder on port 8000", run: "edgepool serve ./bge-small-en-v1.5" },
    {
      say: "a Hub model, as vLLM users write it",
      run: "edgepool serve BAAI/bge-small-en-v1.5 --served_model_name bge --port 8080",
    },
    {
      say: "an embedder and a reranker in one process",
      run: "edgepool serve --model ./embed --model ./rerank --served-model-name rerank",
    },
    {
      say: "API keys and a usage ledger in a new SQLite file",
      run: "edgepool serve ./bge-small-en-v1.5 --store sqlite:edgepool.db --create",
    },
  ],
};

export const SERVE_HELP = renderHelp(SERVE_COMMAND);
