import { z } from "@hono/zod-openapi";

/** Token ids given directly (special tokens included, taken as they are). */
export const TokenIds = z.array(z.number().int()).openapi({ example: [101, 7592, 2088, 102] });

/** `input`: a string, a list of strings, token ids, or a list of token-id lists. */
export const Input = z
  .union([z.string(), z.array(z.string()), TokenIds, z.array(TokenIds)])
  .openapi({ example: "what is deep learning?" });

const ContentPart = z.looseObject({ type: z.string(), text: z.string().optional() });

export const ChatMessage = z.looseObject({
  role: z.string(),
  content: z.union([z.string(), z.array(ContentPart), z.null()]),
});

/** vLLM's deprecated spellings of `use_activation`: read as it, with a `Warning` header. */
export const DeprecatedActivation = {
  softmax: z.boolean().nullish().openapi({ description: "Deprecated: use use_activation" }),
  activation: z.boolean().nullish().openapi({ description: "Deprecated: use use_activation" }),
};

/** Fields shared by requests that take prompts (vLLM's names). */
export const PromptFields = {
  model: z.string().nullish().openapi({ description: "Must match a served model name when given" }),
  input: Input.optional(),
  messages: z
    .array(ChatMessage)
    .optional()
    .openapi({ description: "Chat form, rendered with the model's chat template" }),
  add_generation_prompt: z.boolean().nullish(),
  continue_final_message: z.boolean().nullish(),
  chat_template: z.string().nullish(),
  add_special_tokens: z
    .boolean()
    .nullish()
    .openapi({ description: "Default true for input, false for messages" }),
  truncate_prompt_tokens: z
    .number()
    .int()
    .min(-1)
    .nullish()
    .openapi({ description: "-1 = the model's maximum" }),
  truncation_side: z.enum(["left", "right"]).nullish(),
  use_activation: z.boolean().nullish().openapi({ description: "null = model default" }),
  prompt_name: z.string().nullish().openapi({
    description:
      "A prompt of the model's config_sentence_transformers.json (e.g. query), put in front of text inputs; default: its default_prompt_name. On ColBERT and inference-free SPLADE models, query encodes the inputs as queries (any other name as documents)",
  }),
  ...DeprecatedActivation,
  user: z.string().nullish(),
  request_id: z.string().nullish(),
  priority: z.number().int().nullish(),
};

/** Fields of embedding-like outputs. */
export const EmbeddingFields = {
  encoding_format: z
    .enum(["float", "base64", "bytes", "bytes_only"])
    .nullish()
    .openapi({ description: "bytes/bytes_only: raw bytes (application/octet-stream)" }),
  embed_dtype: z
    .enum(["float32", "float16", "bfloat16", "fp8_e4m3", "fp8_e5m2"])
    .nullish()
    .openapi({ description: "fp8 variants are refused (400) for now" }),
  endianness: z.enum(["native", "big", "little"]).nullish(),
  dimensions: z.number().int().nullish(),
  normalize: z.boolean().nullish().openapi({ description: "Deprecated: use use_activation" }),
};

export const Usage = z.object({
  prompt_tokens: z.number().int(),
  total_tokens: z.number().int(),
  completion_tokens: z.number().int(),
  prompt_tokens_details: z.null(),
});

/** vLLM's list response: `{id, object: "list", created, model, data: [item…], usage}`. */
export function ListResponse<T extends z.ZodType>(name: string, item: T) {
  return z
    .object({
      id: z.string(),
      object: z.literal("list"),
      created: z.number().int(),
      model: z.string(),
      data: z.array(item),
      usage: Usage,
    })
    .openapi(name);
}

export const ErrorResponse = z
  .object({
    error: z.object({
      message: z.string(),
      type: z.string(),
      param: z.string().nullable(),
      code: z.number().int(),
    }),
  })
  .openapi("ErrorResponse");
