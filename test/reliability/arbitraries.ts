import fc from "fast-check";
import { FAMILY_NAMES, familyPaths } from "../../src/api/families.js";

/** Every POST route of the server: the route families' paths. */
export const POST_PATHS = familyPaths(FAMILY_NAMES);

const FIELDS = [
  "model",
  "input",
  "inputs",
  "texts",
  "messages",
  "query",
  "documents",
  "text_1",
  "text_2",
  "queries",
  "items",
  "dimensions",
  "output_dimension",
  "encoding_format",
  "embedding_types",
  "embed_dtype",
  "endianness",
  "truncate_prompt_tokens",
  "truncation_side",
  "truncate",
  "truncation_direction",
  "max_tokens",
  "top_n",
  "task",
  "tokens",
  "prompt",
  "prompt_name",
  "input_type",
  "use_activation",
  "normalize",
  "raw_scores",
  "return_documents",
  "return_text",
  "return_token_strs",
  "add_special_tokens",
  "add_generation_prompt",
  "continue_final_message",
  "chat_template",
  "priority",
];

/** Keys and values that reach object prototypes when looked up carelessly. */
const HOSTILE = ["__proto__", "constructor", "toString", "hasOwnProperty", "valueOf", "prototype"];

const text = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom("a cat", "hello world", "what is deep learning?") },
  { weight: 3, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.constantFrom(...HOSTILE, "", " ", "\u0000", "🙂🙂") },
  { weight: 1, arbitrary: fc.string({ unit: "grapheme", maxLength: 30 }) },
  { weight: 1, arbitrary: fc.nat(2000).map((n) => "cat ".repeat(n)) },
);

const tokenIds = fc.array(fc.integer({ min: -3, max: 700 }), { maxLength: 24 });

const message = fc.record(
  {
    role: fc.oneof(fc.constantFrom("user", "system", "assistant"), text),
    content: fc.oneof(
      text,
      fc.constant(null),
      fc.array(fc.record({ type: fc.constantFrom("text", "image_url"), text }), { maxLength: 2 }),
    ),
  },
  { requiredKeys: ["role"] },
);

const value = fc.oneof(
  { weight: 4, arbitrary: text },
  { weight: 3, arbitrary: fc.array(text, { maxLength: 6 }) },
  { weight: 2, arbitrary: tokenIds },
  { weight: 1, arbitrary: fc.array(tokenIds, { maxLength: 3 }) },
  { weight: 1, arbitrary: fc.array(message, { maxLength: 3 }) },
  { weight: 1, arbitrary: fc.tuple(text, text) },
  {
    weight: 2,
    arbitrary: fc.oneof(
      fc.integer({ min: -2, max: 4096 }),
      fc.integer(),
      fc.double(),
      fc.boolean(),
      fc.constant(null),
    ),
  },
  { weight: 1, arbitrary: fc.record({ source_sentence: text, sentences: fc.array(text) }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
);

/** A request body: a JSON object of known and hostile fields, or something that is not one. */
export const body = fc.oneof(
  {
    weight: 8,
    arbitrary: fc
      .dictionary(fc.oneof(fc.constantFrom(...FIELDS), fc.constantFrom(...HOSTILE)), value, {
        maxKeys: 5,
      })
      .map((o) => JSON.stringify(o)),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom("", "null", "[]", "{", '{"input":', '"x"', "1e999", "{}"),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 60 }) },
);

const texts = fc.array(text, { minLength: 1, maxLength: 4 });
const short = fc.constantFrom("a cat", "a dog", "hello world", "paris", "🙂 ok");
const options = fc.dictionary(fc.constantFrom(...FIELDS.slice(11)), value, { maxKeys: 2 });

/** Plausible requests for each route (mostly valid), with an occasional stray option. */
const plausible = fc
  .tuple(
    fc.oneof(
      fc.record({
        path: fc.constantFrom("/v1/embeddings", "/embeddings", "/pooling", "/classify"),
        body: fc.record({
          input: fc.oneof(short, fc.array(short, { minLength: 1, maxLength: 4 })),
        }),
      }),
      fc.record({ path: fc.constant("/v2/embed"), body: fc.record({ texts: texts }) }),
      fc.record({
        path: fc.constantFrom("/score", "/v1/score"),
        body: fc.record({ text_1: short, text_2: fc.array(short, { minLength: 1, maxLength: 3 }) }),
      }),
      fc.record({
        path: fc.constantFrom("/rerank", "/v1/rerank", "/v2/rerank"),
        body: fc.record({
          query: short,
          documents: fc.array(short, { minLength: 1, maxLength: 3 }),
        }),
      }),
      fc.record({
        path: fc.constantFrom("/embed", "/embed_all", "/predict", "/", "/invocations"),
        body: fc.record({
          inputs: fc.oneof(short, fc.array(short, { minLength: 1, maxLength: 3 })),
        }),
      }),
      fc.record({
        path: fc.constant("/similarity"),
        body: fc.record({
          inputs: fc.record({
            source_sentence: short,
            sentences: fc.array(short, { minLength: 1 }),
          }),
        }),
      }),
      fc.record({ path: fc.constant("/tokenize"), body: fc.record({ prompt: text }) }),
      fc.record({ path: fc.constant("/detokenize"), body: fc.record({ tokens: tokenIds }) }),
    ),
    fc.option(options, { freq: 3 }),
  )
  .map(([{ path, body }, extra]) => ({
    path,
    body: JSON.stringify({ ...body, ...(extra ?? {}) }),
    contentType: "application/json",
  }));

const hostile = fc.record({
  path: fc.constantFrom(...POST_PATHS),
  body,
  contentType: fc.oneof(
    { weight: 9, arbitrary: fc.constant("application/json") },
    { weight: 1, arbitrary: fc.constantFrom("text/plain", "application/x-www-form-urlencoded") },
  ),
});

/** Half plausible requests (they reach tokenizer and model), half hostile ones. */
export const request = fc.oneof(plausible, hostile);

export type FuzzRequest = {
  path: string;
  body: string;
  contentType: string;
};
