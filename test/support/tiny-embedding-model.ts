/**
 * A tiny, fully deterministic sentence-embedding model that transformers.js
 * can load from disk like any Hub checkpoint.
 *
 * Tests that exercise the local embedding path need real vectors whose
 * geometry they control: "these two texts must be near each other", "that one
 * must be orthogonal". A real checkpoint is hundreds of megabytes, cannot be
 * downloaded in an offline build, and its similarities are opaque. Instead
 * this module writes a BERT-shaped model whose whole "network" is a single
 * embedding lookup: every known word is one row of a table the test chooses,
 * and mean pooling over a text averages the rows of its words. Special and
 * unknown tokens map to zero rows, so they shrink a text's mean vector without
 * turning it, and after normalisation only the known words decide the
 * direction.
 *
 * The ONNX protobuf is encoded by hand below rather than with an ONNX or
 * protobuf library, so the fixture adds no dependency and the bytes are easy
 * to reason about.
 */

import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";

export interface TinyModelSpec {
  /** Words the tokenizer knows (lower case, no spaces). Each maps to one row of the embedding table. */
  words: Record<string, number[]>; // word -> vector (all the same length = hidden size, e.g. 8)
}

/**
 * Special tokens take the first ids, in the order BERT checkpoints
 * conventionally use, so [PAD] is 0 and padded positions look up a zero row
 * even before the attention mask is applied.
 */
const SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]"] as const;

/**
 * Writes <dir>/<modelId>/{config.json, tokenizer.json, tokenizer_config.json,
 * special_tokens_map.json, onnx/model.onnx}; returns the hidden size.
 *
 * Load it with `env.localModelPath = dir` and
 * `pipeline("feature-extraction", modelId, { dtype: "fp32" })`; with
 * `{ pooling: "mean", normalize: true }` a text's embedding is the normalised
 * mean of its known words' vectors. A text with no known words has a zero
 * mean, which normalisation cannot give a direction to.
 */
export async function writeTinyEmbeddingModel(dir: string, modelId: string, spec: TinyModelSpec): Promise<number> {
  const entries = Object.entries(spec.words);
  const hiddenSize = validateSpec(entries);
  // Word ids follow the special tokens, in the spec's own key order, so the
  // same spec always produces byte-identical files.
  const vocab = [...SPECIAL_TOKENS, ...entries.map(([word]) => word)];

  const table = new Float32Array(vocab.length * hiddenSize);
  entries.forEach(([, vector], i) => {
    table.set(vector, (SPECIAL_TOKENS.length + i) * hiddenSize);
  });

  const modelDir = join(dir, modelId);
  await mkdir(join(modelDir, "onnx"), { recursive: true });
  await Promise.all([
    writeJson(join(modelDir, "config.json"), modelConfig(vocab.length, hiddenSize)),
    writeJson(join(modelDir, "tokenizer.json"), tokenizerJson(vocab)),
    writeJson(join(modelDir, "tokenizer_config.json"), tokenizerConfig()),
    writeJson(join(modelDir, "special_tokens_map.json"), specialTokensMap()),
    writeFile(join(modelDir, "onnx", "model.onnx"), onnxModel(table, vocab.length, hiddenSize)),
  ]);
  return hiddenSize;
}

/** Rejects specs the tokenizer could never reach, so a typo fails loudly instead of silently embedding as [UNK]. */
function validateSpec(entries: [string, number[]][]): number {
  const first = entries[0];
  if (first === undefined) throw new Error("TinyModelSpec.words must contain at least one word");
  const hiddenSize = first[1].length;
  if (hiddenSize === 0) throw new Error("TinyModelSpec word vectors must not be empty");
  for (const [word, vector] of entries) {
    // The normaliser lower-cases input and the pre-tokeniser splits on
    // whitespace and punctuation, so a word with upper case, spaces or
    // punctuation would never come out of tokenisation whole.
    if (
      word === "" ||
      word !== word.toLowerCase() ||
      /[\s\p{P}\u0021-\u002F\u003A-\u0040\u005B-\u0060\u007B-\u007E]/u.test(word)
    ) {
      throw new Error(`TinyModelSpec word ${JSON.stringify(word)} must be lower case without spaces or punctuation`);
    }
    if (vector.length !== hiddenSize) {
      throw new Error(
        `TinyModelSpec word ${JSON.stringify(word)} has ${vector.length} dimensions, expected ${hiddenSize}`,
      );
    }
    if (!vector.every(Number.isFinite)) {
      throw new Error(`TinyModelSpec word ${JSON.stringify(word)} has a non-finite component`);
    }
  }
  return hiddenSize;
}

async function writeJson(path: string, value: unknown): Promise<void> {
  await writeFile(path, `${JSON.stringify(value, null, 2)}\n`);
}

/**
 * transformers.js picks the model class from `model_type` and the session
 * inputs from the ONNX file; the remaining BERT fields are there so the
 * config reads like a genuine checkpoint to anything that inspects it.
 */
function modelConfig(vocabSize: number, hiddenSize: number): Record<string, unknown> {
  return {
    architectures: ["BertModel"],
    model_type: "bert",
    hidden_size: hiddenSize,
    vocab_size: vocabSize,
    num_hidden_layers: 1,
    num_attention_heads: 1,
    intermediate_size: hiddenSize,
    hidden_act: "gelu",
    max_position_embeddings: 512,
    type_vocab_size: 2,
    layer_norm_eps: 1e-12,
    pad_token_id: 0,
  };
}

function tokenizerJson(vocab: string[]): Record<string, unknown> {
  const special = (id: number) => ({
    id,
    content: SPECIAL_TOKENS[id],
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  });
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: SPECIAL_TOKENS.map((_, id) => special(id)),
    normalizer: {
      type: "BertNormalizer",
      clean_text: true,
      handle_chinese_chars: true,
      // Keep accents so a spec word like "café" still matches its input;
      // stripping them would make such words unreachable.
      strip_accents: false,
      lowercase: true,
    },
    pre_tokenizer: { type: "BertPreTokenizer" },
    post_processor: {
      type: "TemplateProcessing",
      single: [
        { SpecialToken: { id: "[CLS]", type_id: 0 } },
        { Sequence: { id: "A", type_id: 0 } },
        { SpecialToken: { id: "[SEP]", type_id: 0 } },
      ],
      pair: [
        { SpecialToken: { id: "[CLS]", type_id: 0 } },
        { Sequence: { id: "A", type_id: 0 } },
        { SpecialToken: { id: "[SEP]", type_id: 0 } },
        { Sequence: { id: "B", type_id: 1 } },
        { SpecialToken: { id: "[SEP]", type_id: 1 } },
      ],
      special_tokens: {
        "[CLS]": { id: "[CLS]", ids: [2], tokens: ["[CLS]"] },
        "[SEP]": { id: "[SEP]", ids: [3], tokens: ["[SEP]"] },
      },
    },
    decoder: { type: "WordPiece", prefix: "##", cleanup: true },
    model: {
      type: "WordPiece",
      unk_token: "[UNK]",
      // No "##" pieces are in the vocabulary, so a word is either known whole
      // or becomes a single [UNK]; it is never split into partial matches.
      continuing_subword_prefix: "##",
      max_input_chars_per_word: 100,
      vocab: Object.fromEntries(vocab.map((token, id) => [token, id])),
    },
  };
}

/**
 * transformers.js only looks for a tokenizer at all when this file exists,
 * and `tokenizer_class` selects BertTokenizer, which also emits
 * token_type_ids the way a real BERT tokenizer does.
 */
function tokenizerConfig(): Record<string, unknown> {
  return {
    tokenizer_class: "BertTokenizer",
    do_lower_case: true,
    model_max_length: 512,
    padding_side: "right",
    clean_up_tokenization_spaces: true,
    ...specialTokensMap(),
  };
}

function specialTokensMap(): Record<string, string> {
  return {
    pad_token: "[PAD]",
    unk_token: "[UNK]",
    cls_token: "[CLS]",
    sep_token: "[SEP]",
  };
}

// ---------------------------------------------------------------------------
// ONNX encoding
//
// An ONNX file is one serialised `onnx.ModelProto`. Only the handful of
// fields below are needed; their numbers come from onnx/onnx.proto.

/** ONNX TensorProto.DataType values. */
const FLOAT = 1;
const INT64 = 7;

/**
 * IR version 8 and opset 17 are old enough for every onnxruntime the
 * transformers.js release ships with, and Gather has had its current
 * semantics since opset 13.
 */
const IR_VERSION = 8;
const OPSET_VERSION = 17;

/**
 * The graph is one Gather of the embedding table by `input_ids`, producing
 * `last_hidden_state` of shape [batch, sequence, hidden]. `attention_mask` and
 * `token_type_ids` are declared but unused: transformers.js only feeds the
 * inputs a session declares, and declaring them makes this model take exactly
 * the inputs a real BERT export does. Padding is harmless because the pipeline
 * applies the attention mask itself when it mean-pools.
 */
function onnxModel(table: Float32Array, vocabSize: number, hiddenSize: number): Uint8Array {
  const tokenInput = (name: string) => valueInfo(name, INT64, ["batch_size", "sequence_length"]);

  const gather = message()
    .string(1, "embeddings.word_embeddings.weight") // NodeProto.input
    .string(1, "input_ids")
    .string(2, "last_hidden_state") // NodeProto.output
    .string(3, "embedding_lookup") // NodeProto.name
    .string(4, "Gather") // NodeProto.op_type
    .bytes(5, intAttribute("axis", 0)); // NodeProto.attribute

  const embeddings = message()
    .varint(1, vocabSize) // TensorProto.dims
    .varint(1, hiddenSize)
    .varint(2, FLOAT) // TensorProto.data_type
    .string(8, "embeddings.word_embeddings.weight") // TensorProto.name
    // raw_data is little-endian IEEE 754 by definition; copy through a fresh
    // view so the bytes are correct whatever the host's endianness.
    .bytes(9, float32LittleEndian(table)); // TensorProto.raw_data

  const graph = message()
    .bytes(1, gather.finish()) // GraphProto.node
    .string(2, "tiny_embedding") // GraphProto.name
    .bytes(5, embeddings.finish()) // GraphProto.initializer
    .bytes(11, tokenInput("input_ids")) // GraphProto.input
    .bytes(11, tokenInput("attention_mask"))
    .bytes(11, tokenInput("token_type_ids"))
    .bytes(12, valueInfo("last_hidden_state", FLOAT, ["batch_size", "sequence_length", hiddenSize])); // GraphProto.output

  const opset = message()
    .string(1, "") // OperatorSetIdProto.domain: the default ONNX domain
    .varint(2, OPSET_VERSION); // OperatorSetIdProto.version

  return message()
    .varint(1, IR_VERSION) // ModelProto.ir_version
    .string(2, "tiny-embedding-model") // ModelProto.producer_name
    .bytes(7, graph.finish()) // ModelProto.graph
    .bytes(8, opset.finish()) // ModelProto.opset_import
    .finish();
}

/** A ValueInfoProto for a tensor; string dims are symbolic, so any batch size and length is accepted. */
function valueInfo(name: string, elemType: number, dims: (string | number)[]): Uint8Array {
  const shape = message();
  for (const dim of dims) {
    const dimension =
      typeof dim === "number"
        ? message().varint(1, dim) // Dimension.dim_value
        : message().string(2, dim); // Dimension.dim_param
    shape.bytes(1, dimension.finish()); // TensorShapeProto.dim
  }
  const tensorType = message()
    .varint(1, elemType) // TypeProto.Tensor.elem_type
    .bytes(2, shape.finish()); // TypeProto.Tensor.shape
  const type = message().bytes(1, tensorType.finish()); // TypeProto.tensor_type
  return message()
    .string(1, name) // ValueInfoProto.name
    .bytes(2, type.finish()) // ValueInfoProto.type
    .finish();
}

/** An INT AttributeProto. The `type` discriminator is mandatory since IR version 2. */
function intAttribute(name: string, value: number): Uint8Array {
  const ATTRIBUTE_TYPE_INT = 2;
  return message()
    .string(1, name) // AttributeProto.name
    .varint(3, value) // AttributeProto.i
    .varint(20, ATTRIBUTE_TYPE_INT) // AttributeProto.type
    .finish();
}

function float32LittleEndian(values: Float32Array): Uint8Array {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  values.forEach((value, i) => {
    view.setFloat32(i * 4, value, true);
  });
  return bytes;
}

// ---------------------------------------------------------------------------
// Minimal protobuf writer
//
// Protobuf's wire format is a sequence of (tag, value) pairs where the tag is
// `field_number << 3 | wire_type`. Only two wire types are needed: varints
// (type 0) for integers and enums, and length-delimited (type 2) for strings,
// bytes and nested messages. Nested messages are built bottom-up and embedded
// as bytes, which avoids back-patching lengths.

const WIRE_VARINT = 0;
const WIRE_LENGTH_DELIMITED = 2;

interface MessageWriter {
  varint(field: number, value: number): MessageWriter;
  string(field: number, value: string): MessageWriter;
  bytes(field: number, value: Uint8Array): MessageWriter;
  finish(): Uint8Array;
}

function message(): MessageWriter {
  const chunks: Uint8Array[] = [];
  const encoder = new TextEncoder();
  const writer: MessageWriter = {
    varint(field, value) {
      chunks.push(encodeVarint(tag(field, WIRE_VARINT)), encodeVarint(value));
      return writer;
    },
    string(field, value) {
      return writer.bytes(field, encoder.encode(value));
    },
    bytes(field, value) {
      chunks.push(encodeVarint(tag(field, WIRE_LENGTH_DELIMITED)), encodeVarint(value.length), value);
      return writer;
    },
    finish() {
      const out = new Uint8Array(chunks.reduce((total, chunk) => total + chunk.length, 0));
      let offset = 0;
      for (const chunk of chunks) {
        out.set(chunk, offset);
        offset += chunk.length;
      }
      return out;
    },
  };
  return writer;
}

function tag(field: number, wireType: number): number {
  return field * 8 + wireType;
}

/**
 * Base-128 varint, least significant group first. Arithmetic rather than
 * bit operators keeps values above 2^31 correct; only non-negative values
 * occur here (negative int64s would need a ten-byte two's-complement form).
 */
function encodeVarint(value: number): Uint8Array {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new Error(`cannot encode ${value} as a protobuf varint`);
  }
  const bytes: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    bytes.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  bytes.push(rest);
  return Uint8Array.from(bytes);
}
