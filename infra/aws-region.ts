import { join } from "node:path";
import { Provider } from "@pulumi/aws/provider.js";
import s3 from "@pulumi/aws/s3/index.js";
import * as pulumi from "@pulumi/pulumi";
import type { PinnedModel, RoleModels } from "./model.js";

export interface AwsRegion {
  region: string;
  continents: string[];
  /** The region's API endpoint once the functions are deployed (the Worker's origin). */
  url?: string;
}

/** serverless.yml's model parameters: `--param=<name>=<value>` each (`off`: no such function). */
export interface ServerlessParams {
  modelBucket: string;
  modelPrefix: string;
  model: string;
  rerankModel: string;
  classifyModel: string;
}

export interface AwsRegionOutputs {
  bucket: pulumi.Output<string>;
  /** `s3://bucket/<root>/<name>/<manifest-sha256>` of the embedding model. */
  modelUri: pulumi.Output<string>;
  /**
   * serverless.yml's parameters for this region's bucket and pins. The functions' IAM roles are
   * serverless.yml's (one per function, read-only on its own model's prefix): infra makes none.
   */
  serverlessParams: pulumi.Output<ServerlessParams>;
}

/**
 * One region: a versioned, encrypted, private weights bucket that only accepts TLS, and each
 * pinned model's files uploaded under its immutable prefix `<root>/<name>/<manifest-sha256>/`
 * (each with a SHA-256 checksum, the manifest last). `roles` are served; `models` lists every
 * pin to upload (the served ones and those kept for rolling back).
 */
export function awsRegion(
  stack: string,
  spec: AwsRegion,
  roles: RoleModels,
  models: readonly PinnedModel[],
  root: string,
): AwsRegionOutputs {
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

  return {
    bucket: bucket.bucket,
    modelUri: pulumi.interpolate`s3://${bucket.bucket}/${keyOf(roles.embedding)}`,
    serverlessParams: bucket.bucket.apply((modelBucket) => ({
      modelBucket,
      modelPrefix: root,
      model: roles.embedding.prefix,
      rerankModel: roles.rerank?.prefix ?? "off",
      classifyModel: roles.classify?.prefix ?? "off",
    })),
  };
}
