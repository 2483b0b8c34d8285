import { join } from "node:path";
import cloudrunv2 from "@pulumi/gcp/cloudrunv2/index.js";
import secretmanager from "@pulumi/gcp/secretmanager/index.js";
import serviceaccount from "@pulumi/gcp/serviceaccount/index.js";
import storage from "@pulumi/gcp/storage/index.js";
import * as pulumi from "@pulumi/pulumi";
import { type PinnedModel, ROLES, type RoleModels } from "./model.js";

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

/**
 * Where the pinned prefixes are mounted in the container (GCS FUSE, read-only), each at
 * `/weights/<manifest-sha256>`: serve checks the folder's manifest against that sha256.
 */
export const WEIGHTS_MOUNT = "/weights";

/**
 * The IAM condition for reading the pinned prefixes: their objects, and listing the bucket under
 * them (a list is checked against the bucket, with the listed prefix as an attribute; gcsfuse
 * lists the folder it mounts).
 */
export function pinnedPrefixCondition(bucket: string, keys: readonly string[]): string {
  return keys
    .map(
      (k) =>
        `resource.name.startsWith("projects/_/buckets/${bucket}/objects/${k}/") || (resource.name == "projects/_/buckets/${bucket}" && api.getAttribute("storage.googleapis.com/objectListPrefix", "").startsWith("${k}/"))`,
    )
    .join(" || ");
}

/**
 * A scale-to-zero GPU service: Cloud Run with one NVIDIA L4 (4 vCPU and 16 GiB, the minimum for
 * an L4) running `edgepool serve --device auto` from Dockerfile.gpu with each role's model.
 * Weights come from a versioned private bucket in the same region (its name gets a random suffix:
 * bucket names are global), each served pin mounted read-only; the service's identity may read
 * and list exactly those prefixes, and read the origin key from Secret Manager. Objects live
 * under `<root>/<name>/<manifest-sha256>/` as in the AWS buckets.
 */
export function gpuService(
  spec: GpuRegion,
  roles: RoleModels,
  models: readonly PinnedModel[],
  root: string,
  image: string,
  originKey: secretmanager.Secret,
): GpuServiceOutputs {
  const keyOf = (m: PinnedModel) => (root ? `${root}/${m.prefix}` : m.prefix);
  const served = ROLES.map((r) => roles[r]).filter((m) => m !== undefined);
  const name = `edgepool-gpu-${spec.region}`;
  // No `name`: Pulumi names it `edgepool-gpu-<region>-<random>`, unique across all of GCS.
  const bucket = new storage.Bucket(name, {
    location: spec.region.toUpperCase(),
    versioning: { enabled: true },
    uniformBucketLevelAccess: true,
    publicAccessPrevention: "enforced",
    forceDestroy: false,
  });
  // Every pinned model is uploaded (the older ones for rolling back); the roles' are served.
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
  // Read-only on exactly the served prefixes: their objects, and listing under them.
  new storage.BucketIAMMember(`${name}-read-model`, {
    bucket: bucket.name,
    role: "roles/storage.objectViewer",
    member: pulumi.interpolate`serviceAccount:${identity.email}`,
    condition: {
      title: "pinned-model-prefixes",
      expression: bucket.name.apply((b) => pinnedPrefixCondition(b, served.map(keyOf))),
    },
  });
  new secretmanager.SecretIamMember(`${name}-origin-key`, {
    secretId: originKey.id,
    role: "roles/secretmanager.secretAccessor",
    member: pulumi.interpolate`serviceAccount:${identity.email}`,
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
            ...served.flatMap((m) => [
              "--model",
              `${WEIGHTS_MOUNT}/${m.manifestSha256}`,
              "--served-model-name",
              m.name,
            ]),
            "--device",
            "auto",
            "--host",
            "0.0.0.0",
            "--port",
            "8080",
          ],
          // The key the Worker sends (ORIGIN_API_KEY), from Secret Manager at start.
          envs: [
            {
              name: "EDGEPOOL_API_KEYS",
              valueSource: { secretKeyRef: { secret: originKey.secretId, version: "latest" } },
            },
          ],
          ports: { containerPort: 8080 },
          resources: {
            limits: { cpu: "4", memory: "16Gi", "nvidia.com/gpu": "1" },
            cpuIdle: false,
            startupCpuBoost: true,
          },
          startupProbe: { httpGet: { path: "/health" }, periodSeconds: 2, failureThreshold: 60 },
          volumeMounts: served.map((m, i) => ({
            name: `weights-${i}`,
            mountPath: `${WEIGHTS_MOUNT}/${m.manifestSha256}`,
          })),
        },
      ],
      volumes: served.map((m, i) => ({
        name: `weights-${i}`,
        gcs: { bucket: bucket.name, readOnly: true, mountOptions: [`only-dir=${keyOf(m)}`] },
      })),
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
