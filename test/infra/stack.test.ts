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
  let reranker: PinnedModel;
  let classifier: PinnedModel;
  let retained: PinnedModel;
  let out: StackOutputs;
  const key = (m: PinnedModel) => `models/${m.prefix}`;

  beforeAll(async () => {
    const { pinnedModel } = await import("../../infra/model.js");
    const { edgepoolStack } = await import("../../infra/stack.js");
    model = await pinnedModel("bert-embed-mean", fixture("bert-embed-mean"));
    reranker = await pinnedModel("bert-cross-encoder", fixture("bert-cross-encoder"));
    classifier = await pinnedModel("bert-classifier", fixture("bert-classifier"));
    retained = await pinnedModel("bert-embed-cls", fixture("bert-embed-cls"));
    out = edgepoolStack({
      stack: "test",
      regions: {
        ...regions,
        aws: regions.aws.map((r, i) => (i === 0 ? { ...r, url: "https://api.example.test" } : r)),
      },
      roles: { embedding: model, rerank: reranker, classify: classifier },
      retained: [retained],
      root: "models",
      gpuImage: "us-docker.pkg.dev/p/edgepool/edgepool-gpu:1",
      originApiKey: pulumi.secret("origin-key"),
    });
    await value(out.origins);
    for (const r of Object.values(out.aws)) await value(r.serverlessParams);
    // Let the remaining registrations (objects, policies) reach the mocks: bounded wait.
    for (let i = 0, n = -1; i < 50 && n !== resources.length; i++) {
      n = resources.length;
      await new Promise((r) => setTimeout(r, 20));
    }
  });

  it("one provider and bucket per line of regions.json; no IAM role (serverless.yml makes one per function)", () => {
    const providers = of("pulumi:providers:aws").map((p) => p.inputs.region);
    expect(providers.sort()).toEqual(regions.aws.map((r) => r.region).sort());
    expect(of("aws:s3/bucket:Bucket")).toHaveLength(regions.aws.length);
    expect(of("aws:iam/role:Role")).toEqual([]);
    expect(of("aws:iam/rolePolicy:RolePolicy")).toEqual([]);
  });

  it("regions.json ships no placeholder origins (a url is added once a region is deployed)", () => {
    expect(regions.aws.map((r) => r.url).filter(Boolean)).toEqual([]);
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
    const expected = [model, reranker, classifier, retained]
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

  it("a scale-to-zero Cloud Run service with one NVIDIA L4, each role's pin mounted read-only and checked", () => {
    const [service] = of("gcp:cloudrunv2/service:Service");
    const t = unsecret(service!.inputs.template);
    // The origin key comes from Secret Manager, never as a plain value.
    expect(t.containers[0].envs).toEqual([
      {
        name: "EDGEPOOL_API_KEYS",
        valueSource: { secretKeyRef: { secret: "edgepool-test-origin-key", version: "latest" } },
      },
    ]);
    const [secret] = of("gcp:secretmanager/secret:Secret");
    expect(secret!.inputs.secretId).toBe("edgepool-test-origin-key");
    const [version] = of("gcp:secretmanager/secretVersion:SecretVersion");
    expect(unsecret(version!.inputs.secretData)).toBe("origin-key");
    const [accessor] = of("gcp:secretmanager/secretIamMember:SecretIamMember");
    expect(accessor!.inputs.role).toBe("roles/secretmanager.secretAccessor");
    expect(t.nodeSelector.accelerator).toBe("nvidia-l4");
    expect(t.scaling.minInstanceCount).toBe(0);
    expect(t.containers[0].resources.limits).toEqual({
      cpu: "4",
      memory: "16Gi",
      "nvidia.com/gpu": "1",
    });
    const served = [model, reranker, classifier];
    expect(t.containers[0].args).toEqual(expect.arrayContaining(["serve", "--device", "auto"]));
    // Each pin at /weights/<manifest-sha256>: serve refuses a folder whose manifest is not that sha.
    const args = t.containers[0].args as string[];
    expect(args.filter((_, i) => args[i - 1] === "--model")).toEqual(
      served.map((m) => `/weights/${m.manifestSha256}`),
    );
    expect(args.filter((_, i) => args[i - 1] === "--served-model-name")).toEqual(
      served.map((m) => m.name),
    );
    expect(t.volumes.map((v: { gcs: unknown }) => v.gcs)).toEqual(
      served.map((m) => ({
        readOnly: true,
        mountOptions: [`only-dir=${key(m)}`],
      })),
    );
    const [bucket] = of("gcp:storage/bucket:Bucket");
    expect(bucket!.inputs).toMatchObject({
      versioning: { enabled: true },
      publicAccessPrevention: "enforced",
      uniformBucketLevelAccess: true,
    });
    // No fixed name: Pulumi adds a random suffix (bucket names are global).
    expect(bucket!.inputs.name).toBeUndefined();
    const [member] = of("gcp:storage/bucketIAMMember:BucketIAMMember");
    expect(member!.inputs.role).toBe("roles/storage.objectViewer");
    const expression = member!.inputs.condition.expression as string;
    for (const m of served) {
      expect(expression).toContain(`/objects/${key(m)}/")`);
      // Listing is checked against the bucket, with the listed prefix as an attribute.
      expect(expression).toContain(
        `api.getAttribute("storage.googleapis.com/objectListPrefix", "").startsWith("${key(m)}/")`,
      );
    }
    expect(expression).not.toContain(key(retained));
  });

  it("outputs feed serverless.yml (bucket, one pin per role) and wrangler.jsonc (ORIGINS)", async () => {
    const east = out.aws["us-east-1"]!;
    const bucket = await value(east.bucket);
    expect(await value(east.modelUri)).toBe(`s3://${bucket}/${key(model)}`);
    expect(await value(east.serverlessParams)).toEqual({
      modelBucket: bucket,
      modelPrefix: "models",
      model: model.prefix,
      rerankModel: reranker.prefix,
      classifyModel: classifier.prefix,
    });
    expect(out.models).toEqual({
      embedding: model.prefix,
      rerank: reranker.prefix,
      classify: classifier.prefix,
    });
    const origins = await value(out.origins);
    expect(origins.map((o) => o.region)).toEqual([
      regions.aws[0]!.region,
      ...regions.gpu.map((r) => `gpu-${r.region}`),
    ]);
    expect(origins.at(-1)!.url).toMatch(/^https:\/\/.*run\.app$/);
  });

  it("Pulumi.yaml runs the program with tsx only (Pulumi's ts-node off)", () => {
    const yaml = readFileSync(new URL("../../infra/Pulumi.yaml", import.meta.url), "utf8");
    expect(yaml).toMatch(/^\s+typescript: false$/m);
    expect(yaml).toMatch(/^\s+nodeargs: --import=tsx$/m);
  });
});
