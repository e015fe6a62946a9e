import { PDFDocument, StandardFonts } from "pdf-lib";

/**
 * A real PDF the tests write with pdf-lib: each page's lines drawn in
 * Helvetica (a standard font, not embedded, as many PDFs do), so text
 * extraction reads what a viewer would show.
 */
export async function pdfWithPages(pages: readonly (readonly string[])[]): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  for (const lines of pages) {
    const page = doc.addPage([612, 792]);
    lines.forEach((line, i) => {
      page.drawText(line, { x: 50, y: 740 - i * 16, size: 11, font });
    });
  }
  return doc.save();
}
