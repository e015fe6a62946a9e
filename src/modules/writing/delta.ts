import {
  applyPatches,
  cleanupEfficiency,
  makeDiff,
  makePatches,
  parsePatch,
  stringifyPatches,
} from "@sanity/diff-match-patch";

/**
 * Differential storage of versions (seed 000's "differential compression").
 *
 * A version is stored either whole (a snapshot) or as a character-level patch
 * (diff-match-patch) against the latest snapshot. Patching against the
 * snapshot rather than the previous version keeps every restore to one read
 * of the snapshot and one patch, however long the history. A new snapshot is
 * taken when the patch would stop paying for itself (over a tenth of the
 * content) or after SNAPSHOT_EVERY versions, which bounds how far patches grow.
 * A tenth of the content balances the two costs for typical edits: with
 * patches growing by g bytes per version on content of S bytes, a version
 * costs about g/r + r·S/2 bytes, least near r = √(2g/S), about 0.07 for
 * 50-byte edits to 20 KB.
 */
export const SNAPSHOT_EVERY = 100;
const MAX_DELTA_RATIO = 0.1;

export function makeDelta(base: string, content: string): string {
  const diffs = cleanupEfficiency(makeDiff(base, content));
  return stringifyPatches(makePatches(base, diffs));
}

/** Applies a stored patch; throws when the base does not match what the patch was made against. */
export function applyDelta(base: string, delta: string): string {
  const [result, applied] = applyPatches(parsePatch(delta), base);
  if (applied.some((ok) => !ok)) throw new Error("a version patch did not apply cleanly to its snapshot");
  return result;
}

export interface StoragePlan {
  storage: "snapshot" | "delta";
  body: string;
}

/**
 * How to store `content`, given the latest snapshot (null when there is none)
 * and how many versions have been stored against it.
 */
export function planStorage(content: string, snapshot: { content: string; dependents: number } | null): StoragePlan {
  if (!snapshot || snapshot.dependents + 1 >= SNAPSHOT_EVERY) return { storage: "snapshot", body: content };
  const delta = verifiedDelta(snapshot.content, content);
  if (delta === null || Buffer.byteLength(delta) > Buffer.byteLength(content) * MAX_DELTA_RATIO) {
    return { storage: "snapshot", body: content };
  }
  return { storage: "delta", body: delta };
}

/**
 * A patch only counts if applying it gives the content back exactly. The
 * patch format works on encoded characters, and some edits around
 * multi-byte text (accents next to later edits, a diff that splits an emoji)
 * do not survive it; those versions are stored whole instead.
 */
function verifiedDelta(base: string, content: string): string | null {
  try {
    const delta = makeDelta(base, content);
    return applyDelta(base, delta) === content ? delta : null;
  } catch {
    return null;
  }
}
