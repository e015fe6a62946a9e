/**
 * The display diff between two versions of a document: what a client renders
 * as "what changed". Worker-safe (the compute pool runs it on a worker thread
 * for large documents): it imports nothing but the diff library.
 *
 * Lines first, then words: the texts are compared line by line, and each
 * changed hunk (a run of removed lines against a run of added ones) is
 * refined word by word, so a small edit in a long paragraph shows as the
 * words that changed and everything else stays `equal`. Every step is
 * bounded, and a step that would exceed its bound falls back to a coarser
 * but still exact answer:
 * - the line comparison stops after MAX_LINE_EDITS line edits; past that the
 *   answer is the common prefix and suffix around one delete and one insert;
 * - a hunk is refined by words only when both its sides are at most
 *   WORD_REFINE_MAX_CHARS long, its word comparison needs at most
 *   MAX_WORD_EDITS edits, and the diff's WORD_REFINE_BUDGET_CHARS are not yet
 *   spent; otherwise it stays a line-level delete and insert;
 * - within a refined hunk, an unchanged run no longer than the changes on
 *   both its sides (the "the " between two rewritten phrases) is folded into
 *   them, as diff-match-patch's semantic clean-up does, so a rewritten
 *   paragraph reads as one replacement rather than confetti.
 *
 * Invariant (tested on random and real edits): the `equal` and `delete`
 * texts, in order, concatenate to `before`; the `equal` and `insert` texts
 * to `after`. No text splits a surrogate pair. Stats count UTF-16 code
 * units (JavaScript string length).
 */
import { type ChangeObject, diffLines, diffWordsWithSpace } from "diff";
import type { DiffView } from "./schemas.ts";

export interface DisplayDiffInput {
  before: string;
  after: string;
}

/** The changes and their counts, as the diff route shows them (schemas.ts; the route adds from and to). */
export type DisplayDiff = Pick<DiffView, "changes" | "stats">;
export type DisplayOp = DisplayDiff["changes"][number]["op"];

export const MAX_LINE_EDITS = 4_000;
export const WORD_REFINE_MAX_CHARS = 10_000;
export const MAX_WORD_EDITS = 1_500;
export const WORD_REFINE_BUDGET_CHARS = 400_000;
/** A wall-clock backstop under the edit bounds, in case a pathological input is slow per edit. */
const TIMEOUT_MS = 2_000;

export function displayDiff({ before, after }: DisplayDiffInput): DisplayDiff {
  const out = new ChangeList();
  if (before === after) {
    out.push("equal", before);
    return out.finish();
  }
  const lines = diffLines(before, after, { maxEditLength: MAX_LINE_EDITS, timeout: TIMEOUT_MS });
  if (!lines) {
    coarse(before, after, out);
    return out.finish();
  }
  let budget = WORD_REFINE_BUDGET_CHARS;
  let removed = "";
  let added = "";
  const flushHunk = () => {
    if (removed && added && removed.length <= WORD_REFINE_MAX_CHARS && added.length <= WORD_REFINE_MAX_CHARS) {
      if (budget >= removed.length + added.length) {
        budget -= removed.length + added.length;
        if (refineByWords(removed, added, out)) {
          removed = "";
          added = "";
          return;
        }
      }
    }
    out.push("delete", removed);
    out.push("insert", added);
    removed = "";
    added = "";
  };
  for (const part of lines) {
    if (part.removed) removed += part.value;
    else if (part.added) added += part.value;
    else {
      flushHunk();
      out.push("equal", part.value);
    }
  }
  flushHunk();
  return out.finish();
}

/** Appends the word-level changes of one hunk; false (appending nothing) past the edit bound. */
function refineByWords(removed: string, added: string, out: ChangeList): boolean {
  const words = diffWordsWithSpace(removed, added, { maxEditLength: MAX_WORD_EDITS, timeout: TIMEOUT_MS });
  if (!words) return false;
  foldSmallEqualities(words, out);
  return true;
}

/**
 * Emits word changes, folding an unchanged run between two changes into both
 * sides when it is no longer than the change before it and the change after
 * it (each measured by its longer side). Greedy, left to right: a folded run
 * lengthens the change that the next run is measured against, so "a b c" ->
 * "x b y" becomes one replacement. Deletes come before inserts.
 */
function foldSmallEqualities(words: ChangeObject<string>[], out: ChangeList) {
  let deleted = "";
  let inserted = "";
  const flush = () => {
    out.push("delete", deleted);
    out.push("insert", inserted);
    deleted = "";
    inserted = "";
  };
  for (let i = 0; i < words.length; i++) {
    const part = words[i] as ChangeObject<string>;
    if (part.removed) deleted += part.value;
    else if (part.added) inserted += part.value;
    else {
      const size = part.value.length;
      if (
        (deleted || inserted) &&
        size <= Math.max(deleted.length, inserted.length) &&
        size <= nextChangeSize(words, i + 1)
      ) {
        deleted += part.value;
        inserted += part.value;
      } else {
        flush();
        out.push("equal", part.value);
      }
    }
  }
  flush();
}

/** The longer side of the change starting at `from`; 0 when none starts there. */
function nextChangeSize(words: ChangeObject<string>[], from: number): number {
  let removed = 0;
  let added = 0;
  for (let i = from; i < words.length; i++) {
    const part = words[i] as ChangeObject<string>;
    if (part.removed) removed += part.value.length;
    else if (part.added) added += part.value.length;
    else break;
  }
  return Math.max(removed, added);
}

/**
 * How many characters lie between the common prefix and the common suffix,
 * on the longer side: the part a diff has to work on. A one-word edit in a
 * 40 KB document has a span of a few characters, however long the document.
 */
export function changedSpan(before: string, after: string): number {
  const { start, end } = commonEnds(before, after);
  return Math.max(before.length, after.length) - start - end;
}

/** Lengths of the common prefix and suffix, never ending inside a surrogate pair. */
function commonEnds(before: string, after: string): { start: number; end: number } {
  const max = Math.min(before.length, after.length);
  let start = 0;
  while (start < max && before.charCodeAt(start) === after.charCodeAt(start)) start++;
  if (start > 0 && isHighSurrogate(before.charCodeAt(start - 1))) start--;
  let end = 0;
  while (end < max - start && before.charCodeAt(before.length - 1 - end) === after.charCodeAt(after.length - 1 - end)) {
    end++;
  }
  if (end > 0 && isLowSurrogate(before.charCodeAt(before.length - end))) end--;
  return { start, end };
}

/** The bounded fallback: common prefix and suffix kept, the middle replaced. */
function coarse(before: string, after: string, out: ChangeList) {
  const { start, end } = commonEnds(before, after);
  out.push("equal", before.slice(0, start));
  out.push("delete", before.slice(start, before.length - end));
  out.push("insert", after.slice(start, after.length - end));
  out.push("equal", before.slice(before.length - end));
}

function isHighSurrogate(code: number) {
  return code >= 0xd800 && code <= 0xdbff;
}

function isLowSurrogate(code: number) {
  return code >= 0xdc00 && code <= 0xdfff;
}

/** Collects changes, dropping empty texts and merging neighbours with the same op. */
class ChangeList {
  readonly #changes: DisplayDiff["changes"] = [];
  readonly #stats = { insertedChars: 0, deletedChars: 0, unchangedChars: 0 };

  push(op: DisplayOp, text: string) {
    if (text.length === 0) return;
    if (op === "insert") this.#stats.insertedChars += text.length;
    else if (op === "delete") this.#stats.deletedChars += text.length;
    else this.#stats.unchangedChars += text.length;
    const last = this.#changes.at(-1);
    if (last?.op === op) last.text += text;
    else this.#changes.push({ op, text });
  }

  finish(): DisplayDiff {
    return { changes: this.#changes, stats: this.#stats };
  }
}
