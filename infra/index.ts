// The Pulumi program (`pulumi up` in infra/): see docs/deploy.md.
import { readFileSync } from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { pinnedModel } from "./model.js";
import { edgepoolStack, type Regions } from "./stack.js";

const config = new pulumi.Config("edgepool");
const regions = JSON.parse(
  readFileSync(new URL("./regions.json", import.meta.url), "utf8"),
) as Regions;
const model = await pinnedModel(config.require("modelName"), config.require("modelDir"));
const out = edgepoolStack({
  stack: pulumi.getStack(),
  regions,
  model,
  gpuImage: config.get("gpuImage") ?? "",
  originApiKey: config.getSecret("originApiKey") ?? "",
});

export const modelPrefix = out.model.prefix;
export const manifestSha256 = out.model.manifestSha256;
export const aws = out.aws;
export const gpu = out.gpu;
export const origins = out.origins;
