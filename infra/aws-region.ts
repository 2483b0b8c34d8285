import { join } from "node:path";
import iam from "@pulumi/aws/iam/index.js";
import { Provider } from "@pulumi/aws/provider.js";
import s3 from "@pulumi/aws/s3/index.js";
import * as pulumi from "@pulumi/pulumi";
import type { PinnedModel } from "./model.js";

export interface AwsRegion {
  region: string;
  continents: string[];
  /** The region's API endpoint once the functions are deployed (the Worker's origin). */
  url?: string;
}

export interface AwsRegionOutputs {
  bucket: pulumi.Output<string>;
  /** `s3://bucket/<root>/<name>/<manifest-sha256>`: EDGEPOOL_MODEL_URI for the functions. */
  modelUri: pulumi.Output<string>;
  /** serverless.yml's params: `--param modelBucket=… modelPrefix=… model=…`. */
  serverlessParams: pulumi.Output<{ modelBucket: string; modelPrefix: string; model: string }>;
  /** Role for the Lambda functions: read-only on exactly the pinned prefix, plus logs. */
  functionRoleArn: pulumi.Output<string>;
}

/** The read-only policy: objects under the pinned prefixes, and listing only those. */
export function readOnlyPrefixPolicy(bucket: string, prefixes: readonly string[]): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "ReadPinnedModel",
        Effect: "Allow",
        Action: ["s3:GetObject", "s3:GetObjectVersion"],
        Resource: prefixes.map((p) => `arn:aws:s3:::${bucket}/${p}/*`),
      },
      {
        Sid: "ListPinnedModel",
        Effect: "Allow",
        Action: "s3:ListBucket",
        Resource: `arn:aws:s3:::${bucket}`,
        Condition: { StringLike: { "s3:prefix": prefixes.map((p) => `${p}/*`) } },
      },
    ],
  });
}

/**
 * One region: a versioned, encrypted, private weights bucket that only accepts TLS; each pinned
 * model's files uploaded under its immutable prefix `<root>/<name>/<manifest-sha256>/` (each with
 * a SHA-256 checksum, the manifest last); and the functions' role, read-only on exactly those
 * prefixes. `models[0]` is served; the others stay for rolling back.
 */
export function awsRegion(
  stack: string,
  spec: AwsRegion,
  models: readonly PinnedModel[],
  root: string,
): AwsRegionOutputs {
  const model = models[0]!;
  const keyOf = (m: PinnedModel) => (root ? `${root}/${m.prefix}` : m.prefix);
  const name = `edgepool-${spec.region}`;
  const opts = { provider: new Provider(name, { region: spec.region as never }) };
  const bucket = new s3.Bucket(
    name,
    { bucketPrefix: `edgepool-${stack}-${spec.region}-`, forceDestroy: false },
    opts,
  );
  new s3.BucketVersioning(
    name,
    {
      bucket: bucket.id,
      versioningConfiguration: { status: "Enabled" },
    },
    opts,
  );
  new s3.BucketServerSideEncryptionConfiguration(
    name,
    {
      bucket: bucket.id,
      rules: [
        { applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" }, bucketKeyEnabled: true },
      ],
    },
    opts,
  );
  const block = new s3.BucketPublicAccessBlock(
    name,
    {
      bucket: bucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    },
    opts,
  );
  new s3.BucketOwnershipControls(
    name,
    {
      bucket: bucket.id,
      rule: { objectOwnership: "BucketOwnerEnforced" },
    },
    opts,
  );
  new s3.BucketPolicy(
    name,
    {
      bucket: bucket.id,
      policy: bucket.arn.apply((arn) =>
        JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "TlsOnly",
              Effect: "Deny",
              Principal: "*",
              Action: "s3:*",
              Resource: [arn, `${arn}/*`],
              Condition: { Bool: { "aws:SecureTransport": "false" } },
            },
          ],
        }),
      ),
    },
    { ...opts, dependsOn: [block] },
  );

  for (const m of models) {
    const files = m.manifest.files.map(
      (f) =>
        new s3.BucketObjectv2(
          `${name}/${m.prefix}/${f.path}`,
          {
            bucket: bucket.id,
            key: `${keyOf(m)}/${f.path}`,
            source: new pulumi.asset.FileAsset(join(m.dir, f.path)),
            checksumAlgorithm: "SHA256",
            sourceHash: f.sha256,
          },
          opts,
        ),
    );
    // The manifest goes last: a reader never sees a manifest whose files are not all there.
    new s3.BucketObjectv2(
      `${name}/${m.prefix}/edgepool.manifest.json`,
      {
        bucket: bucket.id,
        key: `${keyOf(m)}/edgepool.manifest.json`,
        content: m.manifestText,
        contentType: "application/json",
        checksumAlgorithm: "SHA256",
      },
      { ...opts, dependsOn: files },
    );
  }

  const role = new iam.Role(
    `${name}-functions`,
    {
      assumeRolePolicy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Principal: { Service: "lambda.amazonaws.com" },
            Action: "sts:AssumeRole",
          },
        ],
      }),
    },
    opts,
  );
  new iam.RolePolicy(
    `${name}-read-model`,
    {
      role: role.id,
      policy: bucket.bucket.apply((b) => readOnlyPrefixPolicy(b, models.map(keyOf))),
    },
    opts,
  );
  new iam.RolePolicyAttachment(
    `${name}-logs`,
    {
      role: role.name,
      policyArn: "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    },
    opts,
  );
  return {
    bucket: bucket.bucket,
    modelUri: pulumi.interpolate`s3://${bucket.bucket}/${keyOf(model)}`,
    serverlessParams: bucket.bucket.apply((modelBucket) => ({
      modelBucket,
      modelPrefix: root,
      model: model.prefix,
    })),
    functionRoleArn: role.arn,
  };
}
