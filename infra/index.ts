// The Pulumi program (`pulumi up` in infra/): see docs/deploy.md.
import { readFileSync } from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { pinnedModel } from "./model.js";
import { edgepoolStack, type Regions } from "./stack.js";

const config = new pulumi.Config("edgepool");
const regions = JSON.parse(
  readFileSync(new URL("./regions.json", import.meta.url), "utf8"),
) as Regions;
// The served model, then older pins kept uploaded (and readable) for rolling back:
// `pulumi config set --path 'retainModels[0].dir' …` (and `.name`).
const retained = config.getObject<Array<{ name: string; dir: string }>>("retainModels") ?? [];
const models = await Promise.all(
  [{ name: config.require("modelName"), dir: config.require("modelDir") }, ...retained].map((m) =>
    pinnedModel(m.name, m.dir),
  ),
);
const out = edgepoolStack({
  stack: pulumi.getStack(),
  regions,
  models,
  root: config.get("keyPrefix") ?? "models",
  gpuImage: config.get("gpuImage") ?? "",
  originApiKey: config.getSecret("originApiKey") ?? "",
});

export const modelPrefix = out.model.prefix;
export const manifestSha256 = out.model.manifestSha256;
export const aws = out.aws;
export const gpu = out.gpu;
export const origins = out.origins;
