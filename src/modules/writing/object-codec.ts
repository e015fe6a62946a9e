import { createHash } from "node:crypto";
import { promisify } from "node:util";
import { brotliCompress, brotliDecompress, brotliDecompressSync, constants } from "node:zlib";
import { createDelta } from "fossil-delta";

/**
 * Version content objects, as bytes. Pure functions with no platform
 * imports, taking and returning Uint8Array/Buffer, so any of them can be
 * moved to a worker thread unchanged.
 *
 * An object is either a keyframe (the whole content, Brotli-compressed) or a
 * delta (a Fossil SCM delta from a base object's content to this one,
 * Brotli-compressed). Deltas work on UTF-8 bytes, so no text can fail to
 * round-trip; every object is still decoded and checked against the
 * content's SHA-256 before it is handed back for storage.
 */

/** What an object holds (document_objects.kind, whose CHECK allows these). */
export const OBJECT_KINDS = ["keyframe", "delta"] as const;
export type ObjectKind = (typeof OBJECT_KINDS)[number];

/**
 * Where a new object goes, given the object it follows (the current one):
 * - "run": a delta against one of the current run's objects (the current
 *   one or, when its delta is shorter, one of the few before it: see
 *   encodeObject), while the current object is fewer than RUN_LENGTH deltas
 *   above the run's anchor;
 * - "anchor": else a delta against the current run's anchor, starting a new
 *   run; anchors form a chain of their own, down to the keyframe;
 * - "keyframe": else (the anchor chain is MAX_ANCHOR_DEPTH long), or when
 *   there is nothing to follow, or when a delta would not pay.
 * An object's `run` is its distance above its anchor along its chain, so
 * whichever run object a delta is against, a restore applies at most
 * MAX_ANCHOR_DEPTH + RUN_LENGTH (48) deltas.
 *
 * Measured on real histories (424 and 117 revisions of 30-40 KB Markdown
 * files, compressed as below): plain chains with a keyframe every 32
 * versions store 206 KB and 89 KB, where keyframes are two thirds of it;
 * every 64, 138 KB and 64 KB, with restores of up to 64 deltas. Two levels
 * with each delta against the previous version (runs of 16 on anchors up
 * to 32 deep) store 84 KB and 66 KB, 1.14x a one-thread git repack of the
 * same revisions. Choosing each delta's base among the run's last 8 objects
 * brings runs of 16 to 73 KB and 58 KB; runs of 32 on anchors up to 16
 * deep, 73 KB and 55 KB, under git's repack (74 KB and 57 KB). Applying up
 * to 48 deltas is cheap next to the chain's one query and its
 * decompression (about 2 ms in all for a 40 KB document).
 */
export const RUN_LENGTH = 32;
export const MAX_ANCHOR_DEPTH = 16;

/** How many of the run's latest objects a new delta may be against (content-objects.ts keeps them in memory). */
export const BASE_WINDOW = 8;

export type Placement = "run" | "anchor" | "keyframe";

/** `depth`: deltas from the object down to its keyframe; `run`: deltas since its run's anchor. */
export function nextPlacement(current: { depth: number; run: number } | null): Placement {
  if (!current) return "keyframe";
  if (current.run < RUN_LENGTH) return "run";
  if (current.depth - current.run < MAX_ANCHOR_DEPTH) return "anchor";
  return "keyframe";
}

/**
 * Keyframes are compressed at quality 8: quality 9-11 shrinks a 40 KB
 * Markdown file by at most 12% more but costs 15-37 ms instead of about
 * 1.3 ms, and keyframes are on the save path. Deltas up to 4 KiB (almost
 * every edit) get the best quality, about a millisecond; a larger one (an
 * anchor after a run of edits, a pasted section) quality 10, which on the real
 * histories costs about 2% more bytes than 11 for those deltas and at most
 * a third of the time (33 ms at 11 for a 17 KB delta, 12 ms at 10). The
 * 4 MiB window covers the largest document.
 */
const KEYFRAME_QUALITY = 8;
const DELTA_QUALITY = 11;
const LARGE_DELTA_QUALITY = 10;
const LARGE_DELTA_BYTES = 4 * 1024;
const WINDOW_BITS = 22;

/**
 * A delta is kept unless it costs nearly as much as a fresh keyframe; then
 * the chain restarts. Measured on the real histories: at 0.5, a document
 * that grows fast turns its early anchors into keyframes (4-6% more bytes);
 * from 0.9 up nothing changes.
 */
const DELTA_WORTH = 0.9;

const compressAsync = promisify(brotliCompress);
const decompressAsync = promisify(brotliDecompress);

export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

export function compress(bytes: Uint8Array, kind: ObjectKind): Promise<Buffer> {
  return compressAsync(bytes, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]:
        kind === "keyframe"
          ? KEYFRAME_QUALITY
          : bytes.byteLength > LARGE_DELTA_BYTES
            ? LARGE_DELTA_QUALITY
            : DELTA_QUALITY,
      [constants.BROTLI_PARAM_LGWIN]: WINDOW_BITS,
      [constants.BROTLI_PARAM_SIZE_HINT]: bytes.byteLength,
    },
  });
}

/**
 * Small bodies (the usual delta) are decompressed on the spot: that takes
 * microseconds, less than a hop to the thread pool, which a restore would
 * otherwise make up to 49 times. Larger ones (keyframes) go to the pool.
 */
const SYNC_DECOMPRESS_MAX = 8 * 1024;

export async function decompress(body: Uint8Array): Promise<Buffer> {
  if (body.byteLength <= SYNC_DECOMPRESS_MAX) return brotliDecompressSync(body);
  return decompressAsync(body);
}

/** A Fossil delta turning `base` into `target` (synchronous; CPU-bound on large inputs). */
export function makeDelta(base: Uint8Array, target: Uint8Array): Uint8Array {
  return createDelta(base, target);
}

// Fossil's base-64 digits: "0-9A-Z_a-z~".
const DIGIT = new Int8Array(128).fill(-1);
for (const [i, c] of [..."0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz~"].entries()) {
  DIGIT[c.charCodeAt(0)] = i;
}

/**
 * Applies a Fossil delta. The library's own applier appends byte by byte to
 * a JavaScript array (about 0.5 ms per 40 KB, so 15 ms for a chain of 32);
 * this one copies ranges into a buffer of the announced size, which makes a
 * chain cost well under a millisecond. It checks the format as strictly as
 * the library does (its output is compared with the library's in the tests),
 * and the caller checks the final content's SHA-256 anyway.
 */
export function applyDelta(base: Uint8Array, delta: Uint8Array): Buffer {
  return applyDeltaInto(base, delta, (size) => Buffer.allocUnsafe(size));
}

/** applyDelta writing into the buffer `output` hands out for the announced size. */
function applyDeltaInto(base: Uint8Array, delta: Uint8Array, output: (size: number) => Buffer): Buffer {
  let pos = 0;
  const readInt = (): number => {
    let value = 0;
    let digits = 0;
    while (pos < delta.length) {
      const d = DIGIT[(delta[pos] as number) & 0x7f] as number;
      if (d < 0 || (delta[pos] as number) > 0x7f) break;
      value = value * 64 + d;
      pos++;
      digits++;
    }
    if (digits === 0) throw new Error("delta: number expected");
    return value;
  };
  const size = readInt();
  if (delta[pos++] !== 0x0a) throw new Error("delta: size not terminated by a newline");
  const out = output(size);
  let written = 0;
  while (pos < delta.length) {
    const count = readInt();
    const op = delta[pos++];
    if (op === 0x40 /* @ copy */) {
      const offset = readInt();
      if (pos < delta.length && delta[pos++] !== 0x2c) throw new Error("delta: copy not terminated by a comma");
      if (written + count > size) throw new Error("delta: copy exceeds the output size");
      if (offset + count > base.length) throw new Error("delta: copy extends past the end of the base");
      out.set(base.subarray(offset, offset + count), written);
      written += count;
    } else if (op === 0x3a /* : insert */) {
      if (written + count > size) throw new Error("delta: insert exceeds the output size");
      if (pos + count > delta.length) throw new Error("delta: insert runs past the end of the delta");
      out.set(delta.subarray(pos, pos + count), written);
      written += count;
      pos += count;
    } else if (op === 0x3b /* ; end, with a checksum */) {
      if (written !== size) throw new Error("delta: output size does not match the announced size");
      return out;
    } else {
      throw new Error("delta: unknown operator");
    }
  }
  throw new Error("delta: unterminated");
}

export interface EncodedObject {
  kind: ObjectKind;
  /** The compressed keyframe or delta, as stored. */
  body: Buffer;
}

/** An encoded object and, for a delta, which of the candidate bases it is against. */
export interface EncodedChoice extends EncodedObject {
  baseIndex: number | null;
}

/**
 * Encodes `content` for storage: as a delta against the best of `bases`
 * when there is one and the delta pays for itself, else as a keyframe.
 *
 * The best base is the one with the shortest raw delta (compressing every
 * candidate's delta would cost a millisecond each; the shortest raw one is
 * within 0.3% of the best compressed one on the real histories). Several
 * candidates pay off because the latest content is often not the closest:
 * an edit undone, a paragraph restored, a file history whose commits
 * interleave two branches. git searches a window of recent objects for the
 * same reason.
 *
 * The result is decoded again and compared with the content's SHA-256
 * before it is returned, so nothing that would not restore exactly is ever
 * stored.
 */
export async function encodeObject(content: Uint8Array, bases: readonly Uint8Array[]): Promise<EncodedChoice> {
  const sha = sha256Hex(content);
  let encoded: EncodedChoice | null = null;
  let raw: Uint8Array | null = null;
  let baseIndex = -1;
  for (const [i, base] of bases.entries()) {
    const candidate = makeDelta(base, content);
    if (raw === null || candidate.byteLength < raw.byteLength) {
      raw = candidate;
      baseIndex = i;
    }
  }
  if (raw !== null) {
    const delta = { kind: "delta" as const, body: await compress(raw, "delta"), baseIndex };
    encoded = delta;
    // Only a delta that carries much new text can lose to a keyframe; the
    // usual small edit skips compressing the whole content.
    if (raw.byteLength > content.byteLength / 8) {
      const keyframe = { kind: "keyframe" as const, body: await compress(content, "keyframe"), baseIndex: null };
      if (delta.body.byteLength > keyframe.body.byteLength * DELTA_WORTH) encoded = keyframe;
    }
  }
  encoded ??= { kind: "keyframe", body: await compress(content, "keyframe"), baseIndex: null };
  const restored = await decodeObject(encoded, encoded.baseIndex === null ? null : (bases[encoded.baseIndex] ?? null));
  if (sha256Hex(restored) !== sha) throw new Error("an encoded version did not restore to its exact bytes");
  return encoded;
}

/** encodeObject with one argument, as the compute pool calls it. */
export function encodeObjectFrom(input: { content: Uint8Array; bases: readonly Uint8Array[] }): Promise<EncodedChoice> {
  return encodeObject(input.content, input.bases);
}

/** One object's content, given its base's content for a delta. */
export async function decodeObject(object: EncodedObject, base: Uint8Array | null): Promise<Buffer> {
  const payload = await decompress(object.body);
  if (object.kind === "keyframe") return payload;
  if (!base) throw new Error("a delta needs its base to be decoded");
  return applyDelta(base, payload);
}

/**
 * Restores the last object of a chain that starts with a keyframe and
 * continues with deltas, each against the one before. All bodies are
 * decompressed at once (large ones off the event loop); the deltas then
 * apply in order.
 */
export async function restoreChain(chain: EncodedObject[]): Promise<Buffer> {
  if (chain[0]?.kind !== "keyframe") throw new Error("a chain must start with a keyframe");
  if (chain.slice(1).some((o) => o.kind !== "delta")) throw new Error("a chain continues with deltas only");
  const payloads = await Promise.all(chain.map((o) => decompress(o.body)));
  return applyDeltas(payloads[0] as Buffer, payloads.slice(1));
}

/**
 * Applies deltas in order, alternating between two buffers of its own
 * rather than allocating one per step: a chain of 48 steps on a 40 KB
 * document would otherwise allocate 2 MB outside the JavaScript heap per
 * read, and growth of that memory is what starts V8's full collections
 * (20-30 ms of marking on the event loop). `start` is never written to (it
 * may be a cached content); the result is a copy of the exact size.
 */
function applyDeltas(start: Buffer, deltas: readonly Buffer[]): Buffer {
  if (deltas.length === 0) return start;
  const buffers: [Buffer | null, Buffer | null] = [null, null];
  let content = start;
  for (const [i, delta] of deltas.entries()) {
    const slot = i % 2;
    content = applyDeltaInto(content, delta, (size) => {
      let target = buffers[slot];
      if (!target || target.byteLength < size) {
        target = Buffer.allocUnsafe(Math.ceil(size * 1.25));
        buffers[slot] = target;
      }
      return target.subarray(0, size);
    });
  }
  return Buffer.from(content);
}

/**
 * Restores the last object of `objects` starting from `start`, the known
 * content of the first object's base (a cached one, content-objects.ts), or
 * from the chain's own keyframe when `start` is null.
 */
export async function restoreFrom(input: { start: Uint8Array | null; objects: EncodedObject[] }): Promise<Buffer> {
  if (input.start === null) return restoreChain(input.objects);
  if (input.objects.some((o) => o.kind !== "delta")) throw new Error("a chain continues with deltas only");
  const payloads = await Promise.all(input.objects.map((o) => decompress(o.body)));
  return applyDeltas(Buffer.from(input.start.buffer, input.start.byteOffset, input.start.byteLength), payloads);
}
