/**
 * Splits a text into pieces that `to_tsvector('english', ...)` can take one
 * statement at a time, so indexing a large document never holds the
 * database (and, on PGlite, the event loop) for long.
 *
 * The pieces' vectors are joined with tsvector `||`, which shifts the right
 * side's positions by the largest position on the left. Whole-text
 * to_tsvector counts every word, stop words included, so the join gives the
 * same positions only if each piece ends on a word that yields a lexeme. A
 * piece therefore ends, where it can, right after a plain ASCII word that is
 * not one of PostgreSQL's English stop words, followed by whitespace; the
 * vector is then exactly the whole text's (search-index.test.ts checks this
 * on real and generated texts). Where no such word lies in the window (text
 * without spaced ASCII words, such as Chinese prose), it ends at the last
 * whitespace, never inside a token, and only phrase matches across that one
 * boundary may differ; with no whitespace at all it runs on to the next.
 * Past tsvector's last position (16,383 words) both forms pile positions up
 * at that limit, not identically; the lexemes, and so what matches, agree.
 */
export const SEARCH_CHUNK_CHARS = 8 * 1024;

/** PostgreSQL's `english.stop` (the Snowball list), which to_tsvector('english') drops. */
const ENGLISH_STOP_WORDS = new Set(
  (
    "i me my myself we our ours ourselves you your yours yourself yourselves he him his himself she her hers herself " +
    "it its itself they them their theirs themselves what which who whom this that these those am is are was were be " +
    "been being have has had having do does did doing a an the and but if or because as until while of at by for with " +
    "about against between into through during before after above below to from up down in out on off over under again " +
    "further then once here there when where why how all any both each few more most other some such no nor not only own " +
    "same so than too very s t can will just don should now"
  ).split(" "),
);

const PLAIN_WORD_BEFORE_SPACE = /(?<=\s|^)([A-Za-z]{2,64})(?=\s)/g;

export function splitForIndexing(text: string, maxChars = SEARCH_CHUNK_CHARS): string[] {
  const chunks: string[] = [];
  let start = 0;
  while (text.length - start > maxChars) {
    const end = splitPoint(text, start, maxChars);
    chunks.push(text.slice(start, end));
    start = end;
  }
  if (start < text.length || chunks.length === 0) chunks.push(text.slice(start));
  return chunks;
}

/** Where the piece starting at `start` ends: see the module comment for the order of preference. */
function splitPoint(text: string, start: number, maxChars: number): number {
  const window = text.slice(start, start + maxChars);
  let best = -1;
  // The last `<` and `>` before the match, carried forward in one pass, so the
  // whole window costs linear time (a lastIndexOf per match was quadratic,
  // and this runs on the event loop).
  let scanned = 0;
  let lastOpen = -1;
  let lastClose = -1;
  for (const match of window.matchAll(PLAIN_WORD_BEFORE_SPACE)) {
    const at = match.index as number;
    for (; scanned < at; scanned++) {
      const c = window.charCodeAt(scanned);
      if (c === 0x3c /* < */) lastOpen = scanned;
      else if (c === 0x3e /* > */) lastClose = scanned;
    }
    // Inside what may be a markup tag (`<img alt="a b">` is one token to the parser), a word is not a token of its own.
    if (lastOpen > lastClose) continue;
    if (!ENGLISH_STOP_WORDS.has((match[1] as string).toLowerCase())) best = at + (match[1] as string).length;
  }
  if (best > 0) return start + best;
  const space = lastWhitespace(window);
  if (space > 0) return start + space;
  const next = text.slice(start + maxChars).search(/\s/);
  return next === -1 ? text.length : start + maxChars + next;
}

function lastWhitespace(window: string): number {
  for (let i = window.length - 1; i > 0; i--) {
    if (/\s/.test(window[i] as string)) return i;
  }
  return -1;
}
