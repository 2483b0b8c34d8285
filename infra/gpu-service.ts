import { join } from "node:path";
import cloudrunv2 from "@pulumi/gcp/cloudrunv2/index.js";
import serviceaccount from "@pulumi/gcp/serviceaccount/index.js";
import storage from "@pulumi/gcp/storage/index.js";
import * as pulumi from "@pulumi/pulumi";
import type { PinnedModel } from "./model.js";

export interface GpuRegion {
  region: string;
  continents: string[];
  /** Most instances (each one L4); the least is 0, so an idle service costs nothing. */
  maxInstances: number;
}

export interface GpuServiceOutputs {
  url: pulumi.Output<string>;
  bucket: pulumi.Output<string>;
}

/** Where the pinned prefix is mounted in the container (GCS FUSE, read-only). */
export const WEIGHTS_MOUNT = "/weights";

/**
 * A scale-to-zero GPU service: Cloud Run with one NVIDIA L4 (4 vCPU and 16 GiB, the minimum for
 * an L4) running `edgepool serve --device auto` from Dockerfile.gpu. Weights come from a
 * versioned private bucket in the same region, the pinned prefix mounted read-only; the
 * service's identity may read objects under exactly that prefix. Objects live under
 * `<root>/<name>/<manifest-sha256>/` as in the AWS buckets.
 */
export function gpuService(
  stack: string,
  spec: GpuRegion,
  models: readonly PinnedModel[],
  root: string,
  image: string,
  originApiKey: pulumi.Input<string>,
): GpuServiceOutputs {
  const model = models[0]!;
  const keyOf = (m: PinnedModel) => (root ? `${root}/${m.prefix}` : m.prefix);
  const served = keyOf(model);
  const name = `edgepool-gpu-${spec.region}`;
  const bucket = new storage.Bucket(name, {
    name: `edgepool-${stack}-${spec.region}-weights`,
    location: spec.region.toUpperCase(),
    versioning: { enabled: true },
    uniformBucketLevelAccess: true,
    publicAccessPrevention: "enforced",
    forceDestroy: false,
  });
  // Every pinned model is uploaded (the older ones for rolling back); models[0] is served.
  for (const m of models) {
    const files = m.manifest.files.map(
      (f) =>
        new storage.BucketObject(`${name}/${m.prefix}/${f.path}`, {
          bucket: bucket.name,
          name: `${keyOf(m)}/${f.path}`,
          source: new pulumi.asset.FileAsset(join(m.dir, f.path)),
        }),
    );
    new storage.BucketObject(
      `${name}/${m.prefix}/edgepool.manifest.json`,
      {
        bucket: bucket.name,
        name: `${keyOf(m)}/edgepool.manifest.json`,
        content: m.manifestText,
        contentType: "application/json",
      },
      { dependsOn: files },
    );
  }

  const identity = new serviceaccount.Account(name, {
    accountId: `edgepool-gpu-${spec.region}`.slice(0, 30),
    displayName: `edgepool GPU service (${spec.region})`,
  });
  // Read-only on exactly the pinned prefix (an IAM condition on the object name).
  new storage.BucketIAMMember(`${name}-read-model`, {
    bucket: bucket.name,
    role: "roles/storage.objectViewer",
    member: pulumi.interpolate`serviceAccount:${identity.email}`,
    condition: {
      title: "pinned-model-prefix",
      expression: pulumi.interpolate`resource.name.startsWith("projects/_/buckets/${bucket.name}/objects/${served}/")`,
    },
  });

  const service = new cloudrunv2.Service(name, {
    location: spec.region,
    ingress: "INGRESS_TRAFFIC_ALL",
    deletionProtection: false,
    template: {
      serviceAccount: identity.email,
      gpuZonalRedundancyDisabled: true,
      nodeSelector: { accelerator: "nvidia-l4" },
      scaling: { minInstanceCount: 0, maxInstanceCount: spec.maxInstances },
      maxInstanceRequestConcurrency: 64,
      timeout: "60s",
      containers: [
        {
          image,
          args: [
            "serve",
            "--model",
            WEIGHTS_MOUNT,
            "--served-model-name",
            model.name,
            "--device",
            "auto",
            "--host",
            "0.0.0.0",
            "--port",
            "8080",
          ],
          // The key the Worker sends (ORIGIN_API_KEY); a Pulumi secret, encrypted in the state.
          envs: [{ name: "EDGEPOOL_API_KEYS", value: originApiKey }],
          ports: { containerPort: 8080 },
          resources: {
            limits: { cpu: "4", memory: "16Gi", "nvidia.com/gpu": "1" },
            cpuIdle: false,
            startupCpuBoost: true,
          },
          startupProbe: { httpGet: { path: "/health" }, periodSeconds: 2, failureThreshold: 60 },
          volumeMounts: [{ name: "weights", mountPath: WEIGHTS_MOUNT }],
        },
      ],
      volumes: [
        {
          name: "weights",
          gcs: { bucket: bucket.name, readOnly: true, mountOptions: [`only-dir=${served}`] },
        },
      ],
    },
  });
  // Reachable by the Worker; requests without ORIGIN_API_KEY get 401 from edgepool itself.
  new cloudrunv2.ServiceIamMember(`${name}-invoker`, {
    name: service.name,
    location: spec.region,
    role: "roles/run.invoker",
    member: "allUsers",
  });
  return { url: service.uri, bucket: bucket.name };
}
