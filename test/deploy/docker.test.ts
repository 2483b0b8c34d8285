import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { DockerfileParser } from "dockerfile-ast";
import { validate } from "dockerfile-utils";
import { describe, expect, it } from "vitest";
import { ROOT } from "../helpers/server.js";

// No Docker engine here: the Dockerfiles are checked by a linter and by their parsed structure.
const read = (name: string) => readFileSync(join(ROOT, name), "utf8");
const lock = JSON.parse(read("package-lock.json")) as {
  packages: Record<string, { version?: string }>;
};

type Copy = ReturnType<ReturnType<typeof DockerfileParser.parse>["getCOPYs"]>[number];
const fromStage = (copy: Copy) =>
  copy
    .getFlags()
    .find((f) => f.getName() === "from")
    ?.getValue();

function inspect(name: string) {
  const text = read(name);
  const file = DockerfileParser.parse(text);
  const args = new Map(
    file.getInitialARGs().map((a) => [a.getProperty()!.getName(), a.getProperty()!.getValue()]),
  );
  const expand = (s: string) => s.replace(/\$\{(\w+)\}/g, (_, k: string) => args.get(k) ?? "");
  const froms = file.getFROMs().map((f) => expand(f.getImage() ?? ""));
  const stages = file.getFROMs().map((f) => f.getBuildStage());
  const instructions = file.getInstructions();
  const last = (kw: string) => instructions.filter((i) => i.getKeyword() === kw).at(-1);
  return { text, file, args, froms, stages, instructions, last };
}

it("the linter does report mistakes", () => {
  expect(validate("FROM node:24\nEXPOSE port\nENTRYPOINT ['node']\n").length).toBeGreaterThan(0);
});

describe.each(["Dockerfile", "Dockerfile.gpu"])("%s", (name) => {
  const d = inspect(name);

  it("passes the linter (dockerfile-utils) with no findings", () => {
    expect(validate(d.text).map((x) => `${x.range.start.line + 1}: ${x.message}`)).toEqual([]);
  });

  it("pins every base image by digest, never by tag alone; stages referenced by name exist", () => {
    for (const image of d.froms) {
      if (d.stages.includes(image)) continue;
      // name:tag@sha256:<64 hex>: the tag says what it is, the digest fixes the bytes.
      expect(image).toMatch(/^[\w./-]+:[\w.-]+@sha256:[0-9a-f]{64}$/);
      expect(image).not.toMatch(/:latest@/);
    }
    for (const copy of d.file.getCOPYs()) {
      const from = fromStage(copy);
      if (from) expect(d.stages).toContain(from);
    }
  });

  it("builds with esbuild and tsx at the lockfile's versions", () => {
    for (const [arg, pkg] of [
      ["ESBUILD_VERSION", "esbuild"],
      ["TSX_VERSION", "tsx"],
    ] as const) {
      expect(d.args.get(arg), arg).toBe(lock.packages[`node_modules/${pkg}`]!.version);
    }
  });

  it("copies only files that exist, runs as a non-root user, serves on 8080 with a health check", () => {
    for (const copy of d.file.getCOPYs()) {
      if (fromStage(copy)) continue;
      const sources = copy
        .getArguments()
        .slice(0, -1)
        .map((a) => a.getValue());
      for (const s of sources) expect(existsSync(join(ROOT, s)), s).toBe(true);
    }
    const user = d.last("USER")!.getArgumentsContent();
    expect(user).not.toMatch(/^(root|0)$/);
    expect(d.last("EXPOSE")!.getArgumentsContent()).toBe("8080");
    expect(d.file.getHEALTHCHECKs()).toHaveLength(1);
    expect(JSON.parse(d.last("ENTRYPOINT")!.getArgumentsContent()!)).toEqual([
      "node",
      "dist/cli/main.js",
    ]);
    const cmd = JSON.parse(d.last("CMD")!.getArgumentsContent()!) as string[];
    expect(cmd.slice(0, 5)).toEqual(["serve", "--host", "0.0.0.0", "--port", "8080"]);
  });
});

describe("Dockerfile.gpu", () => {
  const d = inspect("Dockerfile.gpu");

  it("runs on a CUDA 12 + cuDNN runtime base, linux/amd64 only, with --device auto", () => {
    expect(d.froms.at(-1)).toMatch(
      /^nvidia\/cuda:12\.\d+\.\d+-cudnn-runtime-ubuntu\d+\.\d+@sha256:/,
    );
    for (const from of d.file.getFROMs()) {
      if (d.stages.includes(from.getImage() ?? "")) continue;
      expect(from.getFlags().map((f) => `${f.getName()}=${f.getValue()}`)).toEqual([
        "platform=linux/amd64",
      ]);
    }
    expect(JSON.parse(d.last("CMD")!.getArgumentsContent()!)).toEqual(
      expect.arrayContaining(["--device", "auto"]),
    );
  });

  it("pins ONNX Runtime's CUDA provider to the lock's version and always checks its sha256", () => {
    const installed = lock.packages["node_modules/onnxruntime-node"]!.version;
    expect(d.args.get("ORT_VERSION")).toBe(installed);
    // No default: the build stops without it (rehearsed in test/rehearse/docker.test.ts).
    expect(d.args.get("ORT_GPU_NUPKG_SHA256")).toBeNull();
    expect(d.text).toContain("sha256sum -c -");
    expect(d.text).not.toMatch(/if \[ -n "\$\{ORT_GPU_NUPKG_SHA256\}" \]/);
    for (const lib of ["cuda", "shared"]) {
      expect(d.text).toContain(`libonnxruntime_providers_${lib}.so`);
    }
    // No TensorRT runtime in the image: its provider would not load.
    expect(d.text).not.toContain(
      '"runtimes/linux-x64/native/libonnxruntime_providers_tensorrt.so"',
    );
  });
});
