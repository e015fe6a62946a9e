import { applyPatches, parsePatch } from "@sanity/diff-match-patch";

/**
 * The reader for the earlier history form, kept only for the history
 * migration (history-migration.ts) and for reading a document whose history
 * the migration has not reached yet. In that form a version was stored
 * either whole (a "snapshot") or as a diff-match-patch text patch against
 * the latest snapshot ("delta"), one blob each. Nothing writes it any more.
 */
export function applyLegacyPatch(snapshot: string, patch: string): string {
  const [result, applied] = applyPatches(parsePatch(patch), snapshot);
  if (applied.some((ok) => !ok)) throw new Error("a legacy version patch did not apply cleanly to its snapshot");
  return result;
}
