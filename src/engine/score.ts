import {
  BadRequestError,
  cosineSimilarity,
  lexicalScore,
  maxSim,
  type Pooler,
  pairIndices,
  type SequenceOutput,
} from "../core/index.js";
import { type Plan, withKeep } from "./pool.js";
import type { Preparer } from "./prepare.js";
import { tokenizeWithin } from "./request-tokens.js";
import type { TextTokenizer } from "./tokenizer.js";
import type { ScoreMode, ScoreRequest, ScoreResult, TokenizedPrompt } from "./types.js";

/** What scoring reads of a model. */
export interface ScoreModel {
  modelName: string;
  pooler: Pooler;
  tokenizer: TextTokenizer;
  prep: Preparer;
  /** An LLM reranker renders pairs with its score template. */
  templated: boolean;
  /** Most prompt tokens a request may run (`--max-request-tokens`). */
  maxRequestTokens: number;
}

/** The score mode a request gets, refusing modes the model cannot compute. */
function scoreMode(m: ScoreModel, requested: ScoreMode | null | undefined): ScoreMode {
  if (m.pooler.spec.kind === "classify") {
    if (requested && requested !== "cosine") {
      throw new BadRequestError(
        `score_mode '${requested}' needs an embedding model; "${m.modelName}" is a cross-encoder`,
        "score_mode",
      );
    }
    return "cosine";
  }
  if (requested === "lexical" && !m.pooler.sparse) {
    throw new BadRequestError(
      `score_mode 'lexical' needs a model with a sparse head (bge-m3 with --hf-overrides '{"architectures":["BgeM3EmbeddingModel"]}'); "${m.modelName}" has none`,
      "score_mode",
    );
  }
  if (requested === "maxsim" && !m.pooler.supports("token_embed")) {
    throw new BadRequestError(
      `score_mode 'maxsim' needs token vectors; "${m.modelName}" has none`,
      "score_mode",
    );
  }
  // SPLADE scores as sentence-transformers' SparseEncoder: the sparse vectors' dot product.
  const fallback = m.pooler.spec.splade ? "lexical" : "cosine";
  return requested ?? (m.pooler.lateInteraction ? "maxsim" : fallback);
}

/**
 * Each side's texts run once, the queries as queries and the documents as documents (ColBERT
 * prepares them differently; inference-free SPLADE queries run no model); a pair's score
 * compares its query's output with its document's.
 */
function bySides(
  m: ScoreModel,
  req: ScoreRequest,
  pairs: Array<[number, number]>,
  read: string | undefined,
  represent: (outputs: readonly SequenceOutput[]) => (i: number, j: number) => number,
): Plan<ScoreResult[]> {
  const { queries, documents } = req;
  const opts = req.options ?? {};
  const asQuery = { ...opts, role: "query" as const };
  const tokenized: TokenizedPrompt[] = tokenizeWithin(
    [
      ...queries.map((q) => [q, asQuery] as const),
      ...documents.map((d) => [d, { ...opts, role: "document" as const }] as const),
    ],
    m.maxRequestTokens,
    ([t, o]) => m.prep.tokenize(t, o),
  );
  // Inference-free SPLADE: the queries' outputs are their tokens' static weights.
  const fixed = m.prep.isStaticQuery(asQuery) ? queries.length : 0;
  return {
    inputs: tokenized.slice(fixed),
    values: pairs.length,
    read,
    finish: (forward) => {
      const outputs = [
        ...tokenized.slice(0, fixed).map((t) => m.pooler.staticOutput(t.ids)),
        ...forward,
      ].map((o, k) => withKeep(o, tokenized[k]!));
      const score = represent(outputs);
      return pairs.map(([i, j]) => ({
        promptTokenIds: [...tokenized[i]!.ids, ...tokenized[queries.length + j]!.ids],
        score: score(i, queries.length + j),
      }));
    },
  };
}

/** A cross-encoder (or an LLM reranker) runs each pair as one sequence: its activated logit. */
function crossEncoder(
  m: ScoreModel,
  req: ScoreRequest,
  pairs: Array<[number, number]>,
): Plan<ScoreResult[]> {
  const opts = req.options ?? {};
  const tokenized = tokenizeWithin(pairs, m.maxRequestTokens, ([i, j]) =>
    m.templated
      ? m.prep.tokenizeTemplated(req.queries[i]!, req.documents[j]!, opts)
      : m.prep.tokenizePair(req.queries[i]!, req.documents[j]!, opts),
  );
  const params = { useActivation: opts.useActivation ?? null };
  return {
    inputs: tokenized,
    values: pairs.length,
    finish: (outputs) =>
      outputs.map((o, k) => ({
        promptTokenIds: tokenized[k]!.ids,
        score: (m.pooler.run("score", o, params) as Float32Array)[0]!,
      })),
  };
}

/**
 * Scores for 1:1, 1:N or N:N pairs: a cross-encoder's activated logit; for an embedding model
 * the cosine of the two embeddings, MaxSim over ColBERT token vectors, or the lexical match of
 * sparse weights.
 */
export function scorePlan(m: ScoreModel, req: ScoreRequest): Plan<ScoreResult[]> {
  m.pooler.validate("score");
  const opts = req.options ?? {};
  const pairs = pairIndices(req.queries.length, req.documents.length);
  const mode = scoreMode(m, opts.scoreMode);
  if (mode === "maxsim") {
    return bySides(m, req, pairs, m.pooler.readOf("token_embed"), (outputs) => {
      const vectors = outputs.map((o) => m.pooler.run("token_embed", o) as Float32Array[]);
      return (i, j) => maxSim(vectors[i]!, vectors[j]!);
    });
  }
  if (mode === "lexical") {
    return bySides(m, req, pairs, m.pooler.readOf("lexical"), (outputs) => {
      const weights = outputs.map((o) => m.pooler.lexical(o, (id) => m.tokenizer.isSpecial(id)));
      return (i, j) => lexicalScore(weights[i]!, weights[j]!);
    });
  }
  if ((opts.instruction ?? null) !== null && !m.templated) {
    throw new BadRequestError(
      `instruction needs an LLM reranker with a score template; "${m.modelName}" has none`,
      "instruction",
    );
  }
  if (m.pooler.spec.kind === "classify") return crossEncoder(m, req, pairs);
  return bySides(m, req, pairs, undefined, (outputs) => {
    const vectors = outputs.map((o) => m.pooler.run("score", o, {}) as Float32Array);
    return (i, j) => cosineSimilarity(vectors[i]!, vectors[j]!);
  });
}
