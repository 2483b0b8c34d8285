import { UsageError } from "../config/usage-error.js";

/**
 * Secrets a function reads at init: each `<NAME>_PARAMETER` variable names an SSM Parameter Store
 * SecureString whose value becomes `<NAME>` (serverless.yml puts only the names in the
 * environment; the values never appear in the template or the function's configuration). A value
 * already in the environment wins and no request is made (serverless-offline with
 * `--localEnvironment`, tests).
 */
export const SECRET_VARS = ["EDGEPOOL_API_KEYS", "DATABASE_URL", "EDGEPOOL_WEBHOOK_SECRETS"];

/** Fetches parameter values by name (SSM `GetParameters` with decryption). */
export type ParameterReader = (names: string[]) => Promise<Map<string, string>>;

/** SSM Parameter Store through the AWS SDK, loaded only when a parameter must be read. */
export const ssmParameters: ParameterReader = async (names) => {
  const { SSMClient, GetParametersCommand } = await import("@aws-sdk/client-ssm");
  const res = await new SSMClient({}).send(
    new GetParametersCommand({ Names: names, WithDecryption: true }),
  );
  if (res.InvalidParameters?.length) {
    throw new UsageError(`SSM parameters not found: ${res.InvalidParameters.join(", ")}`);
  }
  return new Map((res.Parameters ?? []).map((p) => [p.Name ?? "", p.Value ?? ""]));
};

/** The environment with every `<NAME>_PARAMETER` resolved into `<NAME>` (one request for all). */
export async function withSecrets(
  env: NodeJS.ProcessEnv,
  read: ParameterReader = ssmParameters,
): Promise<NodeJS.ProcessEnv> {
  const wanted = SECRET_VARS.filter((v) => env[`${v}_PARAMETER`] && !env[v]);
  if (wanted.length === 0) return env;
  const names = wanted.map((v) => env[`${v}_PARAMETER`]!);
  const values = await read(names);
  const out = { ...env };
  for (const v of wanted) {
    const name = env[`${v}_PARAMETER`]!;
    const value = values.get(name);
    if (!value) throw new UsageError(`SSM parameter ${name} (${v}_PARAMETER) is empty or missing`);
    out[v] = value;
  }
  return out;
}
