import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import type { ComputePool } from "../compute/compute-pool.ts";
import { defineComputeTask, siblingModule } from "../compute/compute-task.ts";
import type { Embedder } from "./embedder.ts";
import { type LocalModelInput, localModelVectors } from "./local-model-vectors.ts";

export const localModelTask = defineComputeTask<LocalModelInput, Promise<number[][]>>({
  name: "embeddings.local_model",
  file: siblingModule(import.meta.url, "./local-model-vectors"),
  exportName: "localModelVectors",
  run: localModelVectors,
  // A transformer's forward pass is never small enough for the event loop.
  runsInline: () => false,
});

/** A model directory that cannot serve: named, with what is missing. */
export class LocalModelError extends Error {}

/**
 * A transformers.js model from a local directory (EMBEDDING_MODEL_DIR), run
 * on the compute pool's threads. The model is checked when the embedder is
 * made, so a wrong path fails the start with its name rather than the first
 * embedding job; its dimension is the config's hidden size.
 */
export class LocalModelEmbedder implements Embedder {
  readonly dimension: number;

  constructor(
    private readonly compute: ComputePool,
    private readonly modelDir: string,
    readonly model: string,
  ) {
    this.dimension = readModelDimension(modelDir, model);
  }

  async embed(texts: readonly string[]): Promise<number[][]> {
    // The task's own output is a promise; the pool's answer settles with what it settles to.
    return await this.compute.run(localModelTask, { modelDir: this.modelDir, model: this.model, texts });
  }
}

/** Whether `modelDir/model` holds a model this embedder can load. */
export function hasLocalModel(modelDir: string, model: string): boolean {
  try {
    readModelDimension(modelDir, model);
    return true;
  } catch {
    return false;
  }
}

function readModelDimension(modelDir: string, model: string): number {
  const dir = path.join(modelDir, model);
  const where = `embedding model ${model} in ${modelDir}`;
  let config: { hidden_size?: unknown; dim?: unknown };
  try {
    config = JSON.parse(readFileSync(path.join(dir, "config.json"), "utf8"));
  } catch (error) {
    throw new LocalModelError(`${where}: no readable config.json (${(error as Error).message})`);
  }
  if (!existsSync(path.join(dir, "tokenizer.json"))) throw new LocalModelError(`${where}: no tokenizer.json`);
  const onnx = ["model.onnx", "model_quantized.onnx"].some((file) => existsSync(path.join(dir, "onnx", file)));
  if (!onnx) throw new LocalModelError(`${where}: no onnx/model.onnx or onnx/model_quantized.onnx`);
  const dimension = Number(config.hidden_size ?? config.dim);
  if (!Number.isInteger(dimension) || dimension <= 0) {
    throw new LocalModelError(`${where}: config.json names no hidden_size`);
  }
  return dimension;
}
