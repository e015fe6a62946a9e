import { existsSync } from "node:fs";
import path from "node:path";
import type { FeatureExtractionPipeline } from "@huggingface/transformers";

/** What one run of a local model needs: where models live, which one, and the texts. */
export interface LocalModelInput {
  modelDir: string;
  model: string;
  texts: readonly string[];
}

/**
 * Texts per forward pass. A batch is padded to its longest text, so small
 * batches keep memory flat when one long entry sits among short ones.
 */
const BATCH = 8;

/*
 * One loaded pipeline per model and thread. Loading reads the ONNX file and
 * builds an inference session (hundreds of milliseconds for MiniLM, about a
 * second for mpnet), so a thread keeps its pipelines for as long as the
 * compute pool keeps the thread; an idle pool lets its threads go, and the
 * next embedding loads the model again.
 */
const pipelines = new Map<string, Promise<FeatureExtractionPipeline>>();

/**
 * Sentence embeddings from a transformers.js model in `modelDir/model`
 * (config.json, tokenizer.json and onnx/model.onnx or
 * onnx/model_quantized.onnx, as the Xenova exports ship them): the token
 * vectors mean-pooled over the attention mask and scaled to unit length, as
 * sentence-transformers does for all-MiniLM-L6-v2 and all-mpnet-base-v2.
 * Runs on a compute-pool thread (local-model-embedder.ts); nothing here is
 * ever fetched from the network.
 */
export async function localModelVectors(input: LocalModelInput): Promise<number[][]> {
  const extractor = await load(input.modelDir, input.model);
  const vectors: number[][] = [];
  for (let i = 0; i < input.texts.length; i += BATCH) {
    const output = await extractor([...input.texts.slice(i, i + BATCH)], { pooling: "mean", normalize: true });
    for (const vector of output.tolist() as number[][]) {
      // A text with no token the model weighs pools to zero, which normalizing turns into NaN; pgvector refuses NaN.
      vectors.push(vector.every(Number.isFinite) ? vector : vector.map(() => 0));
    }
    output.dispose();
  }
  return vectors;
}

function load(modelDir: string, model: string): Promise<FeatureExtractionPipeline> {
  const key = `${modelDir}\u0000${model}`;
  let loading = pipelines.get(key);
  if (!loading) {
    loading = (async () => {
      const { env, pipeline } = await import("@huggingface/transformers");
      env.allowRemoteModels = false;
      env.allowLocalModels = true;
      env.localModelPath = modelDir;
      // Full precision when the export has it; the 8-bit quantized file otherwise.
      const dtype = existsSync(path.join(modelDir, model, "onnx", "model.onnx")) ? "fp32" : "q8";
      return (await pipeline("feature-extraction", model, { dtype })) as FeatureExtractionPipeline;
    })();
    // A failed load is not remembered: the next call tries again (a model copied in meanwhile).
    loading.catch(() => pipelines.delete(key));
    pipelines.set(key, loading);
  }
  return loading;
}
