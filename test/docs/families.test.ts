import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { fixture } from "../helpers/fixtures.js";
import { ROOT } from "../helpers/server.js";
import { commands, docBlock, postJson, runSh, startServe, substitute } from "./blocks.js";

const scratch = mkdtempSync(join(tmpdir(), "edgepool-families-doc-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Start each serve command of a block in turn; `check` gets each server's URL. */
async function serveEach(
  code: string,
  check: (url: string, i: number) => Promise<void>,
): Promise<number> {
  const serves = commands(code).filter((c) => c.includes("edgepool serve"));
  for (const [i, command] of serves.entries()) {
    const s = await startServe(command);
    try {
      await check(s.url, i);
    } finally {
      await s.stop();
    }
  }
  return serves.length;
}

describe("docs/families.md, each serve command on its family's fixture", () => {
  it("bge-m3: the heads converted from PyTorch pickles, then served with the override", async () => {
    const dir = join(scratch, "bge-m3");
    cpSync(fixture("bge-m3"), dir, { recursive: true });
    // The Hub's layout: the heads as pickled nn.Linear state dicts, no safetensors.
    const py = `
import json, struct, sys, torch
from pathlib import Path
d = Path(sys.argv[1])
for head in ("sparse_linear", "colbert_linear"):
    raw = (d / f"{head}.safetensors").read_bytes()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    state = {}
    for name, meta in header.items():
        if name == "__metadata__": continue
        a, b = meta["data_offsets"]
        t = torch.frombuffer(bytearray(raw[8 + n + a:8 + n + b]), dtype=torch.float32)
        state[name] = t.reshape(meta["shape"]).clone()
    torch.save(state, d / f"{head}.pt")
    (d / f"{head}.safetensors").unlink()
`;
    const pickled = await runSh(`/usr/bin/python3 -c '${py}' ${JSON.stringify(dir)}`);
    expect(pickled.code, pickled.stderr).toBe(0);
    const code = substitute(docBlock("docs/families.md", "bge-m3"), { "path/to/bge-m3": dir });
    const [convert] = commands(code);
    // python3: Debian's, with PyTorch.
    const bin = join(scratch, "bin");
    mkdirSync(bin);
    symlinkSync("/usr/bin/python3", join(bin, "python3"));
    const converted = await runSh(convert!, { env: { PATH: bin } });
    expect(converted.code, converted.stderr).toBe(0);
    for (const head of ["sparse_linear", "colbert_linear"]) {
      expect(readFileSync(join(dir, `${head}.safetensors`))).toEqual(
        readFileSync(join(fixture("bge-m3"), `${head}.safetensors`)),
      );
    }
    const n = await serveEach(code, async (url) => {
      const res = await postJson(`${url}/embed_sparse`, { inputs: "the cat sat on the mat" });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    });
    expect(n).toBe(1);
  });

  it("bge-m3 as one ONNX graph, with no flag", async () => {
    const code = substitute(docBlock("docs/families.md", "bge-m3-onnx"), {
      "path/to/bge-m3-onnx": fixture("bge-m3-onnx"),
    });
    const n = await serveEach(code, async (url) => {
      const res = await postJson(`${url}/pooling`, { input: "a cat", task: "token_embed" });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    });
    expect(n).toBe(1);
  });

  it("SPLADE: a SparseEncoder folder, and a masked-LM export with vLLM's override", async () => {
    const mlm = join(scratch, "mlm-export");
    cpSync(fixture("splade"), mlm, { recursive: true });
    for (const f of ["modules.json", "1_SpladePooling", "config_sentence_transformers.json"]) {
      rmSync(join(mlm, f), { recursive: true, force: true });
    }
    const code = substitute(docBlock("docs/families.md", "splade"), {
      "path/to/splade-v3": fixture("splade"),
      "path/to/mlm-export": mlm,
    });
    const n = await serveEach(code, async (url) => {
      const res = await postJson(`${url}/embed_sparse`, { inputs: "the cat sat on the mat" });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect((res.body as unknown as unknown[][])[0]!.length).toBeGreaterThan(0);
    });
    expect(n).toBe(2);
  });

  it("ColBERT: MaxSim reranking with no flag", async () => {
    const code = substitute(docBlock("docs/families.md", "colbert"), {
      "path/to/answerai-colbert-small-v1": fixture("colbert"),
    });
    const n = await serveEach(code, async (url) => {
      const res = await postJson(`${url}/rerank`, { query: "a cat", documents: ["a cat", "x"] });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    });
    expect(n).toBe(1);
  });

  it("ModernBERT: the embedder embeds, the reranker reranks", async () => {
    const code = substitute(docBlock("docs/families.md", "modernbert"), {
      "path/to/modernbert-embed-base": fixture("modernbert-embed"),
      "path/to/gte-reranker-modernbert-base": fixture("modernbert-reranker"),
    });
    const n = await serveEach(code, async (url, i) => {
      const res =
        i === 0
          ? await postJson(`${url}/v1/embeddings`, { input: "a cat" })
          : await postJson(`${url}/rerank`, { query: "a cat", documents: ["a cat", "x"] });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    });
    expect(n).toBe(2);
  });

  it("Qwen3-Reranker: both forms load and rerank; the template alone is refused", async () => {
    const code = substitute(docBlock("docs/families.md", "qwen3-reranker"), {
      "path/to/qwen3-reranker": fixture("qwen3-reranker"),
    });
    const scores: number[][] = [];
    const n = await serveEach(code, async (url) => {
      const res = await postJson(`${url}/score`, { text_1: "a cat", text_2: ["a cat", "x"] });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      scores.push((res.body.data as { score: number }[]).map((d) => d.score));
    });
    expect(n).toBe(2);
    expect(scores[1]).toEqual(scores[0]);
    const alone = await runSh(
      `npx edgepool serve --model ${fixture("qwen3-reranker")} --score-template qwen3_reranker --port 0`,
    );
    expect(alone.code).not.toBe(0);
    expect(alone.stdout + alone.stderr).toContain("classifier_from_token");
  });
});

describe("docs/families.md's table: the flags column", () => {
  const text = readFileSync(join(ROOT, "docs", "families.md"), "utf8");
  const rows = text
    .split("\n")
    .filter((l) => l.startsWith("| ") && !l.startsWith("| family"))
    .map((l) => l.split(" | "));
  /** Each row's flags: the code spans of its third column that start with `--`. */
  const flags = new Map(
    rows.map((cells) => [
      cells[0]!.replace(/^\| /, ""),
      [...cells[2]!.matchAll(/`(--[^`]+)`/g)].map((m) => m[1]!),
    ]),
  );
  const flagged = [...flags].filter(([, f]) => f.length > 0);
  const blocks = ["bge-m3", "splade", "qwen3-reranker"]
    .map((id) => docBlock("docs/families.md", id).replace(/\\\n\s*/g, ""))
    .join("\n");

  it("a row's override is the one its section's serve command uses", () => {
    expect(flagged.length).toBeGreaterThanOrEqual(5);
    for (const [row, f] of flagged) {
      if (/SPLADE|bge-m3|Qwen3-Reranker/.test(row)) {
        for (const flag of f) expect(blocks, row).toContain(flag);
      }
    }
  });

  it("the rows without a section: each flag loads and answers", async () => {
    const rest = flagged.filter(([row]) => !/SPLADE|bge-m3|Qwen3-Reranker/.test(row));
    expect(rest.map(([row]) => row)).toEqual([
      "Any embedder, zero-shot labels",
      "Any embedder, long inputs",
    ]);
    const plugin = { task: "plugin", data: { texts: ["a cat"], labels: ["cat", "dog"] } };
    const long = { input: "the cat sat on the mat ".repeat(20) };
    const requests: Record<string, [string, unknown]> = {
      "--io-processor-plugin nearest-label": ["/pooling", plugin],
      '--pooler-config \'{"enable_chunked_processing":true,"max_embed_len":32768}\'': [
        "/v1/embeddings",
        long,
      ],
      "--auto-truncate": ["/v1/embeddings", long],
    };
    const all = rest.flatMap(([, f]) => f);
    expect(all).toEqual(Object.keys(requests));
    for (const flag of all) {
      const s = await startServe(
        `npx edgepool serve --model ${fixture("bert-embed-mean")} ${flag}`,
      );
      try {
        const [path, body] = requests[flag]!;
        const res = await postJson(`${s.url}${path}`, body);
        expect(res.status, `${flag}: ${JSON.stringify(res.body)}`).toBe(200);
      } finally {
        await s.stop();
      }
    }
  });
});
