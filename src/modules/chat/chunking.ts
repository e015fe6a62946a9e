/** A piece of a file's text, with where it sits in that text (for citations). */
export interface TextChunk {
  index: number;
  content: string;
  /** Offsets in the extracted text, in UTF-16 code units: content === text.slice(start, end). */
  start: number;
  end: number;
}

export interface ChunkOptions {
  /** A chunk's most characters (a sentence longer than this is cut at a word). */
  maxChars: number;
  /** Characters of whole sentences a chunk repeats from the one before (never across a heading). */
  overlapChars: number;
}

/** About 250 tokens a chunk (a few paragraphs), a sentence or two repeated between neighbours. */
export const DEFAULT_CHUNKING: ChunkOptions = { maxChars: 1_200, overlapChars: 200 };

interface Span {
  start: number;
  end: number;
  /** A heading (a Markdown `#` line, or a short line standing alone): a chunk starts with it. */
  heading: boolean;
}

const sentences = new Intl.Segmenter("en", { granularity: "sentence" });

/**
 * Splits a text into overlapping chunks on heading and sentence
 * boundaries: sections start at headings, sentences (Intl.Segmenter) are
 * packed up to `maxChars`, and each chunk after the first in a section
 * starts with the last sentences of the one before, up to `overlapChars`,
 * so a passage cut at a boundary is whole in one of them. Pure and
 * synchronous: the compute pool runs it with the extraction.
 */
export function chunkText(text: string, options: ChunkOptions = DEFAULT_CHUNKING): TextChunk[] {
  const spans = sentenceSpans(text, options.maxChars);
  const chunks: TextChunk[] = [];
  let current: Span[] = [];
  const flush = () => {
    const first = current[0];
    const last = current.at(-1);
    if (!first || !last) return;
    chunks.push({
      index: chunks.length,
      content: text.slice(first.start, last.end),
      start: first.start,
      end: last.end,
    });
  };
  for (const span of spans) {
    const size = current.length > 0 ? span.end - (current[0] as Span).start : 0;
    if (current.length > 0 && (span.heading || size > options.maxChars)) {
      flush();
      // The next chunk repeats the previous one's tail, unless a heading starts a new section.
      const carried: Span[] = [];
      if (!span.heading) {
        for (let i = current.length - 1; i >= 1; i--) {
          const candidate = current[i] as Span;
          if (span.end - candidate.start > options.maxChars) break;
          if ((current.at(-1) as Span).end - candidate.start > options.overlapChars) break;
          carried.unshift(candidate);
        }
      }
      current = carried;
    }
    current.push(span);
  }
  flush();
  return chunks;
}

/** The text's sentences as spans (white space between them left out), headings marked, long ones cut at words. */
function sentenceSpans(text: string, maxChars: number): Span[] {
  const spans: Span[] = [];
  let offset = 0;
  // Lines first: a heading or a blank line ends a sentence whatever its punctuation.
  for (const block of text.split(/(\n\s*\n|\n(?=#{1,6}\s))/)) {
    const blockStart = offset;
    offset += block.length;
    if (!block.trim()) continue;
    const heading = /^\s*#{1,6}\s/.test(block) || isStandaloneTitle(block);
    let first = true;
    for (const { segment, index } of sentences.segment(block)) {
      const trimmedStart = segment.length - segment.trimStart().length;
      const content = segment.trim();
      if (!content) continue;
      const start = blockStart + index + trimmedStart;
      for (const piece of cut(start, content, maxChars)) {
        spans.push({ ...piece, heading: heading && first });
        first = false;
      }
    }
  }
  return spans;
}

/** A short line with no sentence punctuation, standing alone: a title in text without Markdown. */
function isStandaloneTitle(block: string): boolean {
  const line = block.trim();
  return !line.includes("\n") && line.length <= 80 && !/[.!?:;,]$/.test(line) && /^[A-Z0-9]/.test(line);
}

/** A sentence longer than `maxChars`, cut at the last space before each limit (or at the limit, with none). */
function cut(start: number, content: string, maxChars: number): { start: number; end: number }[] {
  const pieces: { start: number; end: number }[] = [];
  let at = 0;
  while (content.length - at > maxChars) {
    const window = content.slice(at, at + maxChars);
    const space = window.lastIndexOf(" ");
    const length = space > maxChars / 2 ? space : maxChars;
    pieces.push({ start: start + at, end: start + at + length });
    at += length;
    while (content[at] === " ") at++;
  }
  pieces.push({ start: start + at, end: start + content.length });
  return pieces;
}
