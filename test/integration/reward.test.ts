import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixture, type Golden, goldens, maxAbsDiff } from "../helpers/fixtures.js";
import { postJson, type RunningServer, startServer } from "../helpers/server.js";

const golden = goldens().find((g) => g.name === "qwen2-prm") as Golden;
const perRequest = golden.cases.find((c) => c.name.includes("per request"))!;
const byDefault = golden.cases.find((c) => c.name.includes("default step_tag_id"))!;
const inputs = perRequest.prompts!.map((p) => p.promptTokenIds);

describe("process reward model (STEP pooling) over HTTP", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer(["--model", fixture("qwen2-prm")]);
  });
  afterAll(async () => {
    await server.stop();
  });

  it("step_tag_id and returned_token_ids per request give the step rewards", async () => {
    const res = await postJson(`${server.url}/pooling`, {
      input: inputs,
      task: "token_classify",
      step_tag_id: perRequest.options!.stepTagId,
      returned_token_ids: perRequest.options!.returnedTokenIds,
    });
    expect(res.status).toBe(200);
    const got = res.body.data.map((d: { data: number[][] }) => d.data);
    expect(maxAbsDiff(got, perRequest.expected)).toBeLessThan(1e-4);
    // Without step_tag_id, Qwen2ForProcessRewardModel's default (151651, <extra_0>) applies, as vLLM.
    const plain = await postJson(`${server.url}/pooling`, {
      input: inputs,
      task: "token_classify",
    });
    expect(plain.status).toBe(200);
    const steps = plain.body.data.map((d: { data: number[][] }) => d.data);
    expect(steps.map((s: number[][]) => s.length)).toEqual([3, 2, 0]);
    expect(maxAbsDiff(steps, byDefault.expected)).toBeLessThan(1e-4);
  });

  it("returned_token_ids outside the labels is a 400", async () => {
    const res = await postJson(`${server.url}/pooling`, {
      input: inputs[0],
      task: "token_classify",
      returned_token_ids: [2],
    });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain("returned_token_ids has 2");
  });
});
