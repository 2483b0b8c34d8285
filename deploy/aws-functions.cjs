// @ts-check
// serverless.yml's functions and resources, computed from the stage's parameters (`--param`):
// which functions exist (the jobs pair only with a database), each function's model and its own
// IAM role (read-only on exactly that model's prefix), the SQS visibility timeout derived from
// the worker's timeout, and the checks that refuse to package a deploy that could not work.
// Loaded by osls/serverless through `${file(./deploy/aws-functions.cjs):…}` (CommonJS: the
// framework `require`s it).
"use strict";

const { readFileSync } = require("node:fs");
const { join } = require("node:path");

/** Which model each function loads (a stage parameter), and its extra GET routes. */
const FUNCTIONS = {
  embeddings: {
    model: "model",
    get: ["/health", "/v1/models", "/version", "/info", "/openapi.json", "/docs", "/docs/{file+}"],
    // The API page's files (GET /docs is routed here), read on its first request only.
    files: [
      "node_modules/swagger-ui-dist/package.json",
      "node_modules/swagger-ui-dist/LICENSE",
      "node_modules/swagger-ui-dist/NOTICE",
      "node_modules/swagger-ui-dist/swagger-ui-bundle.js",
      "node_modules/swagger-ui-dist/swagger-ui-bundle.js.LICENSE.txt",
      "node_modules/swagger-ui-dist/swagger-ui.css",
    ],
  },
  rerank: { model: "rerankModel" },
  score: { model: "rerankModel" },
  classify: { model: "classifyModel" },
  pooling: { model: "model" },
  tokenize: { model: "model" },
  endpoint: { model: "model" },
};
/** The dist/functions folder of each function (camelCase name → file name). */
const DIST = { rerankJobs: "rerank-jobs", jobsWorker: "jobs-worker" };

/** A packaging error as the framework prints it: the message, no stack. */
class ConfigError extends Error {
  constructor(message) {
    super(`serverless.yml: ${message}`);
    this.code = "EDGEPOOL_CONFIG";
  }
}

const pascal = (s) => s[0].toUpperCase() + s.slice(1);

/**
 * Under serverless-offline (`osls offline start`) a CloudFormation reference cannot resolve: the
 * queue URL is then left to the local environment (`--localEnvironment`), e.g. a local SQS.
 */
const OFFLINE = process.argv.includes("offline");
const queueUrl = () => (OFFLINE ? {} : { EDGEPOOL_JOBS_QUEUE_URL: { Ref: "RerankJobsQueue" } });

/** dist/functions/routes.json, written by `npm run build:functions` from the app's route families. */
function builtRoutes() {
  const path = join(__dirname, "..", "dist", "functions", "routes.json");
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch {
    throw new ConfigError(
      "dist/functions/routes.json is missing: run `npm run build:functions` first",
    );
  }
}

/** Every parameter this file reads, resolved once; missing ones are "". */
async function readParams(resolveVariable) {
  const names = [
    "modelBucket",
    "modelPrefix",
    "model",
    "rerankModel",
    "classifyModel",
    "public",
    "apiKeysParameter",
    "databaseUrlParameter",
    "webhookSecretsParameter",
    "memorySize",
    "timeout",
    "ephemeralStorage",
    "provisionedConcurrency",
    "reservedConcurrency",
    "functionUrl",
    "jobsWorkerTimeout",
    "jobsMaxReceiveCount",
    "alarmEmail",
    "throttleRate",
    "throttleBurst",
    ...Object.keys(FUNCTIONS).flatMap((f) => [
      `${f}MemorySize`,
      `${f}Timeout`,
      `${f}ReservedConcurrency`,
    ]),
  ];
  const out = {};
  for (const n of names) {
    const v = await resolveVariable(`param:${n}, ""`);
    out[n] = v === null || v === undefined ? "" : String(v);
  }
  return out;
}

const MODEL_HELP = {
  model: "the embedding model",
  rerankModel: "the cross-encoder that answers /rerank and /score (or `off`)",
  classifyModel: "the classifier that answers /classify (or `off`)",
};

/** `<name>/<manifest-sha256>`, as `edgepool pin` printed it; `off` drops the functions. */
function checkModel(p, name) {
  const v = p[name];
  if (v === "off" && name !== "model") return null;
  if (!v) {
    throw new ConfigError(
      `--param=${name}=<name>/<manifest-sha256> is required: ${MODEL_HELP[name]}, as \`edgepool pin\` printed it`,
    );
  }
  if (!/^[^/]+\/[0-9a-f]{64}$/.test(v)) {
    throw new ConfigError(
      `--param=${name}=${v} is not <name>/<manifest-sha256> (the last two segments of the URI \`edgepool pin\` printed)`,
    );
  }
  return v;
}

function int(p, name, { min, max }) {
  const n = Number(p[name]);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(
      `--param=${name} must be an integer from ${min} to ${max}, got "${p[name]}"`,
    );
  }
  return n;
}

/** What the stage deploys, checked: refuses what could not work, naming the parameter. */
async function plan({ resolveVariable, resolveConfigurationProperty }) {
  const p = await readParams(resolveVariable);
  const stage = await resolveConfigurationProperty(["provider", "stage"]);
  const service = await resolveConfigurationProperty(["service"]);
  const isPublic = p.public === "true";
  if (!isPublic && !p.apiKeysParameter) {
    throw new ConfigError(
      "no API keys: give --param=apiKeysParameter=/edgepool/<stage>/api-keys (an SSM SecureString of comma-separated keys), or --param=public=true to serve without authentication",
    );
  }
  if (isPublic && p.apiKeysParameter) {
    throw new ConfigError("--param=public=true and --param=apiKeysParameter are exclusive");
  }
  const database = p.databaseUrlParameter || null;
  if (database && !p.webhookSecretsParameter) {
    throw new ConfigError(
      "--param=databaseUrlParameter deploys the rerank jobs functions, which sign callbacks: give --param=webhookSecretsParameter=/edgepool/<stage>/webhook-secrets too",
    );
  }
  if (!database && p.webhookSecretsParameter) {
    throw new ConfigError(
      "--param=webhookSecretsParameter needs --param=databaseUrlParameter (jobs are stored in Postgres)",
    );
  }
  const models = {
    model: checkModel(p, "model"),
    rerankModel: checkModel(p, "rerankModel"),
    classifyModel: checkModel(p, "classifyModel"),
  };
  if (database && !models.rerankModel) {
    throw new ConfigError(
      "--param=databaseUrlParameter needs --param=rerankModel (the jobs rerank)",
    );
  }
  const workerTimeout = int(p, "jobsWorkerTimeout", { min: 1, max: 900 });
  return {
    p,
    stage,
    service,
    isPublic,
    database,
    models,
    workerTimeout,
    // AWS: at least the function's timeout; it advises six times it for SQS-triggered functions.
    visibilityTimeout: Math.min(43_200, 6 * workerTimeout),
  };
}

const ssmArn = (name) => ({
  "Fn::Sub": `arn:\${AWS::Partition}:ssm:\${AWS::Region}:\${AWS::AccountId}:parameter/${name.replace(/^\//, "")}`,
});

/** The SSM parameters (names) a function reads at init, by environment variable. */
function secretsOf(cfg, fn) {
  const out = {};
  if (!cfg.isPublic) out.EDGEPOOL_API_KEYS_PARAMETER = cfg.p.apiKeysParameter;
  if (cfg.database) out.DATABASE_URL_PARAMETER = cfg.p.databaseUrlParameter;
  if (cfg.database && (fn === "rerankJobs" || fn === "jobsWorker")) {
    out.EDGEPOOL_WEBHOOK_SECRETS_PARAMETER = cfg.p.webhookSecretsParameter;
  }
  if (fn === "jobsWorker") delete out.EDGEPOOL_API_KEYS_PARAMETER; // no HTTP: no keys
  return out;
}

const modelKey = (cfg, model) => `${cfg.p.modelPrefix ? `${cfg.p.modelPrefix}/` : ""}${model}`;

/** The function's own role: its log group, its model's prefix, its parameters, its queue use. */
function roleOf(cfg, fn, model) {
  const name = `${cfg.service}-${cfg.stage}-${fn}`;
  const statements = [
    {
      Effect: "Allow",
      Action: ["logs:CreateLogStream", "logs:CreateLogGroup", "logs:PutLogEvents"],
      Resource: {
        "Fn::Sub": `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/${name}:*`,
      },
    },
  ];
  if (model) {
    const key = modelKey(cfg, model);
    statements.push(
      {
        Effect: "Allow",
        Action: ["s3:GetObject"],
        Resource: `arn:aws:s3:::${cfg.p.modelBucket}/${key}/*`,
      },
      {
        // A wrong pin is then a clear 404 (NoSuchKey), not a 403.
        Effect: "Allow",
        Action: ["s3:ListBucket"],
        Resource: `arn:aws:s3:::${cfg.p.modelBucket}`,
        Condition: { StringLike: { "s3:prefix": [`${key}/*`] } },
      },
    );
  }
  const params = Object.values(secretsOf(cfg, fn));
  if (params.length > 0) {
    statements.push({
      Effect: "Allow",
      Action: ["ssm:GetParameters"],
      Resource: params.map(ssmArn),
    });
  }
  const queue = { "Fn::GetAtt": ["RerankJobsQueue", "Arn"] };
  if (fn === "rerankJobs")
    statements.push({ Effect: "Allow", Action: ["sqs:SendMessage"], Resource: queue });
  if (fn === "jobsWorker") {
    statements.push({
      Effect: "Allow",
      Action: [
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
        "sqs:ChangeMessageVisibility",
        "sqs:SendMessage",
      ],
      Resource: queue,
    });
  }
  return {
    Type: "AWS::IAM::Role",
    Properties: {
      AssumeRolePolicyDocument: {
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Principal: { Service: "lambda.amazonaws.com" },
            Action: "sts:AssumeRole",
          },
        ],
      },
      Policies: [
        { PolicyName: `${name}`, PolicyDocument: { Version: "2012-10-17", Statement: statements } },
      ],
    },
  };
}

function reserved(p, fn) {
  const v = p[`${fn}ReservedConcurrency`] || p.reservedConcurrency;
  if (v === "none" || v === "") return {};
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) {
    throw new ConfigError(`--param=reservedConcurrency must be an integer ≥ 0 or none, got "${v}"`);
  }
  return { reservedConcurrency: n };
}

function uri(cfg, model) {
  return `s3://${cfg.p.modelBucket}/${modelKey(cfg, model)}`;
}

/** One HTTP function serving one route family from its model. */
function modelFunction(cfg, routes, fn) {
  const spec = FUNCTIONS[fn];
  const model = cfg.models[spec.model];
  if (!model) return null;
  const p = cfg.p;
  return {
    handler: `dist/functions/${fn}/index.handler`,
    role: `${pascal(fn)}Role`,
    memorySize: Number(p[`${fn}MemorySize`] || p.memorySize),
    timeout: Number(p[`${fn}Timeout`] || p.timeout),
    ephemeralStorageSize: Number(p.ephemeralStorage),
    ...(Number(p.provisionedConcurrency) > 0
      ? { provisionedConcurrency: Number(p.provisionedConcurrency) }
      : {}),
    ...reserved(p, fn),
    ...(p.functionUrl === "true" ? { url: true } : {}),
    package: { patterns: [`dist/functions/${fn}/**`, ...(spec.files ?? [])] },
    environment: {
      EDGEPOOL_MODEL_URI: uri(cfg, model),
      EDGEPOOL_SERVED_MODEL_NAME: model.split("/")[0],
      ...secretsOf(cfg, fn),
    },
    events: [
      ...routes[fn].map((path) => ({ httpApi: `POST ${path}` })),
      ...(spec.get ?? []).map((path) => ({ httpApi: `GET ${path}` })),
    ],
  };
}

/** The functions this stage deploys. */
async function functions(ctx) {
  const cfg = await plan(ctx);
  const routes = builtRoutes();
  const out = {};
  for (const fn of Object.keys(FUNCTIONS)) {
    const f = modelFunction(cfg, routes, fn);
    if (f) out[fn] = f;
  }
  if (cfg.database) {
    const rerankName = cfg.models.rerankModel.split("/")[0];
    // Webhook reranking: accept (store in Postgres, queue the id on SQS; no model, no ONNX Runtime)…
    out.rerankJobs = {
      handler: `dist/functions/${DIST.rerankJobs}/index.handler`,
      role: "RerankJobsRole",
      memorySize: 512,
      timeout: Number(cfg.p.timeout),
      ...reserved(cfg.p, "rerankJobs"),
      package: { patterns: [`dist/functions/${DIST.rerankJobs}/**`, "!node_modules/**"] },
      environment: {
        EDGEPOOL_SERVED_MODEL_NAME: rerankName,
        ...queueUrl(),
        ...secretsOf(cfg, "rerankJobs"),
      },
      events: [
        { httpApi: "POST /v1/rerank/jobs" },
        { httpApi: "GET /v1/rerank/jobs/{id}" },
        { httpApi: "GET /v1/usage" },
      ],
    };
    // …and run and deliver (SQS-triggered, partial batch failures; retries go back to the queue).
    out.jobsWorker = {
      handler: `dist/functions/${DIST.jobsWorker}/index.handler`,
      role: "JobsWorkerRole",
      memorySize: Number(cfg.p.rerankMemorySize || cfg.p.memorySize),
      timeout: cfg.workerTimeout,
      ephemeralStorageSize: Number(cfg.p.ephemeralStorage),
      ...reserved(cfg.p, "jobsWorker"),
      package: { patterns: [`dist/functions/${DIST.jobsWorker}/**`] },
      environment: {
        EDGEPOOL_MODEL_URI: uri(cfg, cfg.models.rerankModel),
        EDGEPOOL_SERVED_MODEL_NAME: rerankName,
        ...queueUrl(),
        ...secretsOf(cfg, "jobsWorker"),
      },
      events: [
        {
          sqs: {
            arn: { "Fn::GetAtt": ["RerankJobsQueue", "Arn"] },
            batchSize: 10,
            maximumBatchingWindow: 1,
            functionResponseType: "ReportBatchItemFailures",
          },
        },
      ],
    };
  }
  return out;
}

/** Per-function roles, the jobs queue with its dead-letter queue and alarm, the API's throttling. */
async function resources(ctx) {
  const cfg = await plan(ctx);
  const Resources = {};
  for (const [fn, spec] of Object.entries(FUNCTIONS)) {
    const model = cfg.models[spec.model];
    if (model) Resources[`${pascal(fn)}Role`] = roleOf(cfg, fn, model);
  }
  Resources.AlarmTopic = {
    Type: "AWS::SNS::Topic",
    Properties: { TopicName: `${cfg.service}-${cfg.stage}-alarms` },
  };
  if (cfg.p.alarmEmail) {
    Resources.AlarmEmail = {
      Type: "AWS::SNS::Subscription",
      Properties: {
        Protocol: "email",
        Endpoint: cfg.p.alarmEmail,
        TopicArn: { Ref: "AlarmTopic" },
      },
    };
  }
  if (cfg.database) {
    Resources.RerankJobsRole = roleOf(cfg, "rerankJobs", null);
    Resources.JobsWorkerRole = roleOf(cfg, "jobsWorker", cfg.models.rerankModel);
    Resources.RerankJobsQueue = {
      Type: "AWS::SQS::Queue",
      Properties: {
        QueueName: `${cfg.service}-${cfg.stage}-rerank-jobs`,
        // Six times the worker's timeout (jobsWorkerTimeout), as AWS advises.
        VisibilityTimeout: cfg.visibilityTimeout,
        MessageRetentionPeriod: 1_209_600,
        RedrivePolicy: {
          deadLetterTargetArn: { "Fn::GetAtt": ["RerankJobsDeadLetterQueue", "Arn"] },
          maxReceiveCount: int(cfg.p, "jobsMaxReceiveCount", { min: 1, max: 1000 }),
        },
      },
    };
    Resources.RerankJobsDeadLetterQueue = {
      Type: "AWS::SQS::Queue",
      Properties: {
        QueueName: `${cfg.service}-${cfg.stage}-rerank-jobs-dlq`,
        MessageRetentionPeriod: 1_209_600,
      },
    };
    // A message in the dead-letter queue is a job whose delivery kept failing: say so.
    Resources.RerankJobsDeadLetterAlarm = {
      Type: "AWS::CloudWatch::Alarm",
      Properties: {
        AlarmName: `${cfg.service}-${cfg.stage}-rerank-jobs-dlq`,
        AlarmDescription: "Rerank job messages moved to the dead-letter queue",
        Namespace: "AWS/SQS",
        MetricName: "ApproximateNumberOfMessagesVisible",
        Dimensions: [
          {
            Name: "QueueName",
            Value: { "Fn::GetAtt": ["RerankJobsDeadLetterQueue", "QueueName"] },
          },
        ],
        Statistic: "Maximum",
        Period: 60,
        EvaluationPeriods: 1,
        Threshold: 0,
        ComparisonOperator: "GreaterThanThreshold",
        TreatMissingData: "notBreaching",
        AlarmActions: [{ Ref: "AlarmTopic" }],
      },
    };
  }
  const throttle = {
    ThrottlingRateLimit: int(cfg.p, "throttleRate", { min: 1, max: 100_000 }),
    ThrottlingBurstLimit: int(cfg.p, "throttleBurst", { min: 1, max: 100_000 }),
  };
  return {
    Resources,
    Outputs: { AlarmTopicArn: { Value: { Ref: "AlarmTopic" } } },
    // The HTTP API's stage (made by the framework): requests per second and burst, per route.
    extensions: { HttpApiStage: { Properties: { DefaultRouteSettings: throttle } } },
  };
}

module.exports = { functions, resources, FUNCTIONS };
