import { readFileSync } from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import type { PinnedModel } from "../../infra/model.js";
import type { Regions, StackOutputs } from "../../infra/stack.js";
import { fixture } from "../helpers/fixtures.js";

interface Registered {
  type: string;
  name: string;
  // biome-ignore lint/suspicious/noExplicitAny: resource inputs are checked field by field
  inputs: any;
}

const resources: Registered[] = [];

// Pulumi's own unit-test mocks: the program runs for real, resources are recorded, not created.
pulumi.runtime.setMocks(
  {
    newResource(args) {
      resources.push({ type: args.type, name: args.name, inputs: args.inputs });
      const state: Record<string, unknown> = { ...args.inputs };
      if (args.type === "aws:s3/bucket:Bucket") {
        state.bucket = `${args.inputs.bucketPrefix}abc123`;
        state.arn = `arn:aws:s3:::${state.bucket}`;
      }
      if (args.type === "aws:iam/role:Role") {
        state.arn = `arn:aws:iam::123456789012:role/${args.name}`;
        state.name = args.name;
      }
      if (args.type === "gcp:serviceaccount/account:Account") {
        state.email = `${args.inputs.accountId}@project.iam.gserviceaccount.com`;
      }
      if (args.type === "gcp:cloudrunv2/service:Service") {
        state.uri = `https://${args.name}-xyz.a.run.app`;
        state.name = args.name;
      }
      return { id: `${args.name}-id`, state };
    },
    call: (args) => args.inputs,
  },
  "edgepool",
  "test",
  false,
);

const regions = JSON.parse(
  readFileSync(new URL("../../infra/regions.json", import.meta.url), "utf8"),
) as Regions;
const SECRET_SIG = "4dabf18193072939515e22adb298388d";
// biome-ignore lint/suspicious/noExplicitAny: serialized resource inputs
const unsecret = (v: any) => (v?.[SECRET_SIG] ? v.value : v);
const of = (type: string) => resources.filter((r) => r.type === type);
const value = <T>(o: pulumi.Output<T>) => new Promise<T>((resolve) => o.apply(resolve));

describe("infra (Pulumi, mocked engine)", () => {
  let model: PinnedModel;
  let retained: PinnedModel;
  let out: StackOutputs;
  const key = (m: PinnedModel) => `models/${m.prefix}`;

  beforeAll(async () => {
    const { pinnedModel } = await import("../../infra/model.js");
    const { edgepoolStack } = await import("../../infra/stack.js");
    model = await pinnedModel("bert-embed-mean", fixture("bert-embed-mean"));
    retained = await pinnedModel("bert-embed-cls", fixture("bert-embed-cls"));
    out = edgepoolStack({
      stack: "test",
      regions,
      models: [model, retained],
      root: "models",
      gpuImage: "us-docker.pkg.dev/p/edgepool/edgepool-gpu:1",
      originApiKey: pulumi.secret("origin-key"),
    });
    await value(out.origins);
    for (const r of Object.values(out.aws)) await value(r.functionRoleArn);
    // Let the remaining registrations (objects, policies) reach the mocks: bounded wait.
    for (let i = 0, n = -1; i < 50 && n !== resources.length; i++) {
      n = resources.length;
      await new Promise((r) => setTimeout(r, 20));
    }
  });

  it("one provider, bucket and role per line of regions.json", () => {
    const providers = of("pulumi:providers:aws").map((p) => p.inputs.region);
    expect(providers.sort()).toEqual(regions.aws.map((r) => r.region).sort());
    expect(of("aws:s3/bucket:Bucket")).toHaveLength(regions.aws.length);
    expect(of("aws:iam/role:Role")).toHaveLength(regions.aws.length);
  });

  it("buckets are versioned, encrypted, private and TLS-only", () => {
    for (const v of of("aws:s3/bucketVersioning:BucketVersioning")) {
      expect(v.inputs.versioningConfiguration.status).toBe("Enabled");
    }
    for (const e of of(
      "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    )) {
      expect(e.inputs.rules[0].applyServerSideEncryptionByDefault.sseAlgorithm).toBe("AES256");
    }
    const blocks = of("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock");
    expect(blocks).toHaveLength(regions.aws.length);
    for (const b of blocks) {
      expect([
        b.inputs.blockPublicAcls,
        b.inputs.blockPublicPolicy,
        b.inputs.ignorePublicAcls,
        b.inputs.restrictPublicBuckets,
      ]).toEqual([true, true, true, true]);
    }
    for (const p of of("aws:s3/bucketPolicy:BucketPolicy")) {
      const doc = JSON.parse(p.inputs.policy);
      expect(doc.Statement[0]).toMatchObject({
        Effect: "Deny",
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      });
    }
  });

  it("uploads every manifest file under <name>/<manifest-sha256>/ with SHA-256 checksums", () => {
    expect(model.prefix).toMatch(/^bert-embed-mean\/[0-9a-f]{64}$/);
    const objects = of("aws:s3/bucketObjectv2:BucketObjectv2");
    const expected = [model, retained]
      .flatMap((m) =>
        [...m.manifest.files.map((f) => f.path), "edgepool.manifest.json"].map(
          (p) => `${key(m)}/${p}`,
        ),
      )
      .sort();
    for (const r of regions.aws) {
      const keys = objects
        .filter((o) => o.name.startsWith(`edgepool-${r.region}/`))
        .map((o) => o.inputs.key)
        .sort();
      expect(keys).toEqual(expected);
    }
    for (const o of objects) expect(o.inputs.checksumAlgorithm).toBe("SHA256");
    const manifest = objects.find((o) => o.inputs.key === `${key(model)}/edgepool.manifest.json`)!;
    expect(manifest.inputs.content).toBe(model.manifestText);
  });

  it("the functions' role reads exactly the pinned prefixes (served + rollback) and nothing else", async () => {
    const policies = of("aws:iam/rolePolicy:RolePolicy");
    expect(policies).toHaveLength(regions.aws.length);
    for (const p of policies) {
      const doc = JSON.parse(p.inputs.policy);
      const region = p.name.replace(/^edgepool-/, "").replace(/-read-model$/, "");
      const bucket = await value(out.aws[region]!.bucket);
      expect(doc.Statement).toEqual([
        {
          Sid: "ReadPinnedModel",
          Effect: "Allow",
          Action: ["s3:GetObject", "s3:GetObjectVersion"],
          Resource: [
            `arn:aws:s3:::${bucket}/${key(model)}/*`,
            `arn:aws:s3:::${bucket}/${key(retained)}/*`,
          ],
        },
        {
          Sid: "ListPinnedModel",
          Effect: "Allow",
          Action: "s3:ListBucket",
          Resource: `arn:aws:s3:::${bucket}`,
          Condition: {
            StringLike: { "s3:prefix": [`${key(model)}/*`, `${key(retained)}/*`] },
          },
        },
      ]);
    }
    for (const role of of("aws:iam/role:Role")) {
      expect(JSON.parse(role.inputs.assumeRolePolicy).Statement[0].Principal.Service).toBe(
        "lambda.amazonaws.com",
      );
    }
  });

  it("a scale-to-zero Cloud Run service with one NVIDIA L4, weights mounted read-only", () => {
    const [service] = of("gcp:cloudrunv2/service:Service");
    // The template holds a secret (the origin key), so the engine sees it wrapped as one.
    const t = unsecret(service!.inputs.template);
    expect(t.containers[0].envs).toEqual([{ name: "EDGEPOOL_API_KEYS", value: "origin-key" }]);
    expect(t.nodeSelector.accelerator).toBe("nvidia-l4");
    expect(t.scaling.minInstanceCount).toBe(0);
    expect(t.containers[0].resources.limits).toEqual({
      cpu: "4",
      memory: "16Gi",
      "nvidia.com/gpu": "1",
    });
    expect(t.containers[0].args).toEqual(expect.arrayContaining(["serve", "--device", "auto"]));
    expect(t.volumes[0].gcs).toMatchObject({
      readOnly: true,
      mountOptions: [`only-dir=${key(model)}`],
    });
    const [bucket] = of("gcp:storage/bucket:Bucket");
    expect(bucket!.inputs).toMatchObject({
      versioning: { enabled: true },
      publicAccessPrevention: "enforced",
      uniformBucketLevelAccess: true,
    });
    const [member] = of("gcp:storage/bucketIAMMember:BucketIAMMember");
    expect(member!.inputs.role).toBe("roles/storage.objectViewer");
    expect(member!.inputs.condition.expression).toContain(`/objects/${key(model)}/`);
  });

  it("outputs feed serverless.yml (bucket, model URI, role) and wrangler.jsonc (ORIGINS)", async () => {
    const east = out.aws["us-east-1"]!;
    const bucket = await value(east.bucket);
    expect(await value(east.modelUri)).toBe(`s3://${bucket}/${key(model)}`);
    expect(await value(east.serverlessParams)).toEqual({
      modelBucket: bucket,
      modelPrefix: "models",
      model: model.prefix,
    });
    expect(await value(east.functionRoleArn)).toMatch(/^arn:aws:iam::\d+:role\//);
    const origins = await value(out.origins);
    expect(origins.map((o) => o.region)).toEqual([
      ...regions.aws.map((r) => r.region),
      ...regions.gpu.map((r) => `gpu-${r.region}`),
    ]);
    expect(origins.at(-1)!.url).toMatch(/^https:\/\/.*run\.app$/);
  });
});
