import { defineComputeTask, siblingModule } from "../../platform/compute/compute-task.ts";
import { chunkText, type TextChunk } from "./chunking.ts";
import { extractText, type TextKind } from "./text-extraction.ts";

/** A file's text and its chunks, or why its text could not be read. */
export type FileText = { ok: true; length: number; chunks: TextChunk[] } | { ok: false; reason: string };

/** Extraction and chunking together, in one trip to a compute thread. Worker-safe. */
export async function readFileText(input: { kind: TextKind; bytes: Uint8Array }): Promise<FileText> {
  try {
    const text = await extractText(input);
    if (!text.trim())
      return { ok: false, reason: "the file holds no text (a scanned PDF needs OCR, which Strata does not do)" };
    return { ok: true, length: text.length, chunks: chunkText(text) };
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
}

export const fileTextTask = defineComputeTask<{ kind: TextKind; bytes: Uint8Array }, Promise<FileText>>({
  name: "chat.file_text",
  file: siblingModule(import.meta.url, "./file-text-tasks"),
  exportName: "readFileText",
  run: readFileText,
  // Small text files are read inline; PDFs and anything larger go to a thread.
  runsInline: (input) => input.kind !== "pdf" && input.bytes.length <= 16 * 1024,
});
