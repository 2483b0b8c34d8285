import secretmanager from "@pulumi/gcp/secretmanager/index.js";
import * as pulumi from "@pulumi/pulumi";
import { type AwsRegion, type AwsRegionOutputs, awsRegion } from "./aws-region.js";
import { type GpuRegion, type GpuServiceOutputs, gpuService } from "./gpu-service.js";
import { allPins, type PinnedModel, type RoleModels } from "./model.js";

export interface Regions {
  aws: AwsRegion[];
  gpu: GpuRegion[];
}

export interface StackInput {
  stack: string;
  regions: Regions;
  /** The served model of each role (one source of truth for serverless.yml and the GPU service). */
  roles: RoleModels;
  /** Older pins kept uploaded for rolling back. */
  retained: PinnedModel[];
  /** Key prefix above `<name>/<manifest-sha256>/` (serverless.yml's modelPrefix, `pin --to s3://B/<root>`). */
  root: string;
  /** Image built from Dockerfile.gpu; without one no GPU service is declared. */
  gpuImage: string;
  originApiKey: pulumi.Input<string>;
}

/** An entry of the Worker's ORIGINS var (wrangler.jsonc). */
export interface OriginEntry {
  region: string;
  url: string;
  continents: string[];
}

export interface StackOutputs {
  /** Each role's pin: `<name>/<manifest-sha256>`. */
  models: Record<string, string>;
  /** Per AWS region: parameters for serverless.yml (`--param`). */
  aws: Record<string, AwsRegionOutputs>;
  gpu: Record<string, GpuServiceOutputs>;
  /** The Worker's ORIGINS: deployed AWS regions, then the GPU services. */
  origins: pulumi.Output<OriginEntry[]>;
}

/** Every region's bucket and role, the GPU services, and what feeds serverless.yml and wrangler.jsonc. */
export function edgepoolStack(input: StackInput): StackOutputs {
  const aws: Record<string, AwsRegionOutputs> = {};
  const models = allPins(input.roles, input.retained);
  for (const r of input.regions.aws) {
    aws[r.region] = awsRegion(input.stack, r, input.roles, models, input.root);
  }
  const gpu: Record<string, GpuServiceOutputs> = {};
  if (input.gpuImage && input.regions.gpu.length > 0) {
    // The Worker → origin key, in Secret Manager (the GPU services read it at start).
    const originKey = new secretmanager.Secret("edgepool-origin-key", {
      secretId: `edgepool-${input.stack}-origin-key`,
      replication: { auto: {} },
    });
    new secretmanager.SecretVersion("edgepool-origin-key", {
      secret: originKey.id,
      secretData: input.originApiKey,
    });
    for (const r of input.regions.gpu) {
      gpu[r.region] = gpuService(r, input.roles, models, input.root, input.gpuImage, originKey);
    }
  }
  const origins = pulumi.all([
    ...input.regions.aws
      .filter((r) => r.url)
      .map((r) => pulumi.output({ region: r.region, url: r.url!, continents: r.continents })),
    ...input.regions.gpu
      .filter((r) => gpu[r.region])
      .map((r) =>
        gpu[r.region]!.url.apply((url) => ({
          region: `gpu-${r.region}`,
          url,
          continents: r.continents,
        })),
      ),
  ]);
  return {
    models: Object.fromEntries(
      Object.entries(input.roles)
        .filter(([, m]) => m !== undefined)
        .map(([role, m]) => [role, (m as PinnedModel).prefix]),
    ),
    aws,
    gpu,
    origins,
  };
}
