import { defineComputeTask, siblingModule } from "../../platform/compute/compute-task.ts";
import { type EncodedChoice, type EncodedObject, encodeObjectFrom, restoreFrom } from "./object-codec.ts";

/**
 * Content-object coding runs inline for documents of ordinary size (a 40 KB
 * document encodes in about 1.5 ms, less than a thread hop with two copies)
 * and on the compute pool above this many bytes (the content and its
 * largest candidate base): a Fossil delta of a 2 MB document takes 80-300
 * ms, which would stall every other request. Up to BASE_WINDOW candidate
 * bases add a delta each, about 0.1 ms apiece at 40 KB.
 */
export const CODEC_INLINE_MAX_BYTES = 128 * 1024;

export const encodeObjectTask = defineComputeTask<
  { content: Uint8Array; bases: readonly Uint8Array[] },
  Promise<EncodedChoice>
>({
  name: "writing.encode_object",
  file: siblingModule(import.meta.url, "./object-codec"),
  exportName: "encodeObjectFrom",
  run: encodeObjectFrom,
  runsInline: ({ content, bases }) =>
    content.byteLength + Math.max(0, ...bases.map((b) => b.byteLength)) <= CODEC_INLINE_MAX_BYTES,
});

export const restoreChainTask = defineComputeTask<
  { start: Uint8Array | null; objects: EncodedObject[] },
  Promise<Uint8Array>
>({
  name: "writing.restore_chain",
  file: siblingModule(import.meta.url, "./object-codec"),
  exportName: "restoreFrom",
  run: restoreFrom,
  // Compressed sizes. Inline, the decompression still runs on libuv's
  // threads (object-codec.ts: bodies over 8 KiB), and what is left on the
  // event loop is range-copying deltas: under 2 ms for a 40-delta chain of
  // a 100 KB document. A thread hop costs more than that, and a thread
  // started for it (they exit when idle) 100-200 ms.
  runsInline: ({ start, objects }) =>
    start !== null || objects.reduce((n, o) => n + o.body.byteLength, 0) <= CODEC_INLINE_MAX_BYTES,
});
