import { defineComputeTask, siblingModule } from "../../platform/compute/compute-task.ts";
import { changedSpan, type DisplayDiff, type DisplayDiffInput, displayDiff } from "./display-diff.ts";

/**
 * A display diff runs inline when the span between the versions' common
 * prefix and suffix is at most this many characters: then it takes about a
 * millisecond or less (a small edit in any document, or two small documents),
 * no more than a hop to a worker thread and back. Larger spans run on the
 * compute pool, where a far-apart diff of a 40 KB document takes 20-150 ms.
 */
export const DIFF_INLINE_MAX_SPAN = 2_048;
/**
 * Past this size the span is not even measured on the event loop (a scan of
 * two 2 MB texts takes milliseconds): such diffs always go to the pool.
 */
const DIFF_SCAN_MAX_CHARS = 512 * 1024;

export const displayDiffTask = defineComputeTask<DisplayDiffInput, DisplayDiff>({
  name: "writing.display_diff",
  file: siblingModule(import.meta.url, "./display-diff"),
  exportName: "displayDiff",
  run: displayDiff,
  runsInline: ({ before, after }) =>
    before.length + after.length <= DIFF_INLINE_MAX_SPAN ||
    (before.length + after.length <= DIFF_SCAN_MAX_CHARS && changedSpan(before, after) <= DIFF_INLINE_MAX_SPAN),
});
