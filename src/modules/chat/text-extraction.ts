import { createRequire } from "node:module";
import path from "node:path";
import { convert } from "html-to-text";

/** The kinds of file whose text Strata extracts (file-types.ts decides a file's from its content). */
export const TEXT_KINDS = ["text", "markdown", "html", "pdf"] as const;
export type TextKind = (typeof TEXT_KINDS)[number];

/** A file whose text cannot be read: the reason is kept on the file (status `failed`). */
export class ExtractionError extends Error {}

const require = createRequire(import.meta.url);
/** pdf.js's own copies of the 14 standard PDF fonts, for PDFs that use them without embedding them. */
const STANDARD_FONTS = `${path.join(path.dirname(require.resolve("pdfjs-dist/package.json")), "standard_fonts")}${path.sep}`;

/**
 * A file's text, by kind: text and Markdown as they are (decoded as UTF-8,
 * a byte-order mark dropped), HTML through html-to-text (the visible text,
 * headings and paragraphs on their own lines, no links' URLs), PDF through
 * pdf.js (each page's text, pages apart by a blank line). Worker-safe: the
 * compute pool runs it off the event loop (a large PDF takes seconds).
 */
export async function extractText(input: { kind: TextKind; bytes: Uint8Array }): Promise<string> {
  switch (input.kind) {
    case "text":
    case "markdown":
      return decodeUtf8(input.bytes);
    case "html":
      return convert(decodeUtf8(input.bytes), {
        wordwrap: false,
        selectors: [
          { selector: "a", options: { ignoreHref: true } },
          { selector: "img", format: "skip" },
          { selector: "h1", options: { uppercase: false } },
          { selector: "h2", options: { uppercase: false } },
          { selector: "h3", options: { uppercase: false } },
          { selector: "table", options: { uppercaseHeaderCells: false } },
        ],
      }).trim();
    case "pdf":
      return pdfText(input.bytes);
  }
}

function decodeUtf8(bytes: Uint8Array): string {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new ExtractionError("the file is not valid UTF-8 text");
  }
}

async function pdfText(bytes: Uint8Array): Promise<string> {
  const { getDocument } = await import("pdfjs-dist/legacy/build/pdf.mjs");
  let document: Awaited<ReturnType<typeof getDocument>["promise"]>;
  try {
    // A copy: pdf.js takes the buffer over (transfers it) while it parses.
    document = await getDocument({
      data: new Uint8Array(bytes),
      isEvalSupported: false,
      useSystemFonts: false,
      standardFontDataUrl: STANDARD_FONTS,
      verbosity: 0,
    }).promise;
  } catch (error) {
    throw new ExtractionError(`the PDF could not be read: ${(error as Error).message}`);
  }
  try {
    const pages: string[] = [];
    for (let number = 1; number <= document.numPages; number++) {
      const page = await document.getPage(number);
      const content = await page.getTextContent();
      let text = "";
      for (const item of content.items) {
        if (!("str" in item)) continue;
        text += item.str;
        if (item.hasEOL) text += "\n";
      }
      pages.push(text.trim());
      page.cleanup();
    }
    return pages.filter(Boolean).join("\n\n");
  } finally {
    await document.destroy();
  }
}
