// The Pulumi program (`pulumi up` in infra/): see docs/deploy.md.
import { readFileSync } from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { pinnedModel, type RoleModels } from "./model.js";
import { edgepoolStack, type Regions } from "./stack.js";

const config = new pulumi.Config("edgepool");
const regions = JSON.parse(
  readFileSync(new URL("./regions.json", import.meta.url), "utf8"),
) as Regions;
// One model per role, each a folder `edgepool pin` hashed:
//   pulumi config set --path 'edgepool:models.embedding.name' all-MiniLM-L6-v2   (and .dir)
// (roles: embedding, rerank, classify; only embedding is required). Older pins kept uploaded
// (and readable) for rolling back: `pulumi config set --path 'edgepool:retainModels[0].dir' …`.
type Folder = { name: string; dir: string };
const roles = config.requireObject<Partial<Record<keyof RoleModels, Folder>>>("models");
if (!roles.embedding) throw new Error("edgepool:models.embedding (name, dir) is required");
const pin = (m: Folder | undefined) => (m ? pinnedModel(m.name, m.dir) : undefined);
const [embedding, rerank, classify] = await Promise.all(
  [roles.embedding, roles.rerank, roles.classify].map(pin),
);
const retained = await Promise.all(
  (config.getObject<Folder[]>("retainModels") ?? []).map((m) => pinnedModel(m.name, m.dir)),
);
const out = edgepoolStack({
  stack: pulumi.getStack(),
  regions,
  roles: {
    embedding: embedding!,
    ...(rerank ? { rerank } : {}),
    ...(classify ? { classify } : {}),
  },
  retained,
  root: config.get("keyPrefix") ?? "models",
  gpuImage: config.get("gpuImage") ?? "",
  originApiKey: config.getSecret("originApiKey") ?? "",
});

export const models = out.models;
export const aws = out.aws;
export const gpu = out.gpu;
export const origins = out.origins;
