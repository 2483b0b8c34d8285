import * as pulumi from "@pulumi/pulumi";
import { type AwsRegion, type AwsRegionOutputs, awsRegion } from "./aws-region.js";
import { type GpuRegion, type GpuServiceOutputs, gpuService } from "./gpu-service.js";
import type { PinnedModel } from "./model.js";

export interface Regions {
  aws: AwsRegion[];
  gpu: GpuRegion[];
}

export interface StackInput {
  stack: string;
  regions: Regions;
  /** The served model first, then older pins kept for rolling back. */
  models: PinnedModel[];
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
  model: { name: string; manifestSha256: string; prefix: string };
  /** Per AWS region: parameters for serverless.yml (`--param`). */
  aws: Record<string, AwsRegionOutputs>;
  gpu: Record<string, GpuServiceOutputs>;
  /** The Worker's ORIGINS: deployed AWS regions, then the GPU services. */
  origins: pulumi.Output<OriginEntry[]>;
}

/** Every region's bucket and role, the GPU services, and what feeds serverless.yml and wrangler.jsonc. */
export function edgepoolStack(input: StackInput): StackOutputs {
  const aws: Record<string, AwsRegionOutputs> = {};
  const model = input.models[0];
  if (!model) throw new Error("edgepool: give at least one model to pin");
  for (const r of input.regions.aws) {
    aws[r.region] = awsRegion(input.stack, r, input.models, input.root);
  }
  const gpu: Record<string, GpuServiceOutputs> = {};
  if (input.gpuImage) {
    for (const r of input.regions.gpu) {
      gpu[r.region] = gpuService(
        input.stack,
        r,
        input.models,
        input.root,
        input.gpuImage,
        input.originApiKey,
      );
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
    model: {
      name: model.name,
      manifestSha256: model.manifestSha256,
      prefix: model.prefix,
    },
    aws,
    gpu,
    origins,
  };
}
