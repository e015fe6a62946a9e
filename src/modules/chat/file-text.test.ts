import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pdfWithPages } from "../../../test/support/pdf-fixtures.ts";
import { chunkText } from "./chunking.ts";
import { sniffFileType } from "./file-types.ts";
import { ExtractionError, extractText } from "./text-extraction.ts";

const utf8 = (text: string) => new TextEncoder().encode(text);

describe("chat files: types from content", () => {
  it("knows a PDF by its signature, whatever its name, and refuses one declared as text", async () => {
    const pdf = await pdfWithPages([["Hello."]]);
    assert.deepEqual(await sniffFileType(pdf.slice(0, 4100), null, "notes.txt"), {
      ok: true,
      mime: "application/pdf",
      kind: "pdf",
    });
    assert.deepEqual(await sniffFileType(pdf.slice(0, 4100), "text/plain", "notes.txt"), {
      ok: false,
      reason: "mismatch",
      detected: "application/pdf",
    });
  });

  it("tells text, Markdown and HTML apart, and refuses binaries and text declared as PDF", async () => {
    assert.deepEqual(await sniffFileType(utf8("plain words\n"), "text/plain", "a.txt"), {
      ok: true,
      mime: "text/plain",
      kind: "text",
    });
    const md = await sniffFileType(utf8("# Title\n\nBody."), null, "readme.md");
    assert.deepEqual(md, { ok: true, mime: "text/markdown", kind: "markdown" });
    const html = await sniffFileType(utf8("<!DOCTYPE html><html><body>Hi</body></html>"), null, "page");
    assert.deepEqual(html, { ok: true, mime: "text/html", kind: "html" });
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
    assert.deepEqual(await sniffFileType(png, "application/pdf", "x.pdf"), {
      ok: false,
      reason: "unsupported",
      detected: "image/png",
    });
    assert.equal((await sniffFileType(new Uint8Array([0, 1, 2, 3, 0xff]), null, "blob")).ok, false);
    const fake = await sniffFileType(utf8("just text"), "application/pdf", "fake.pdf");
    assert.deepEqual(fake, { ok: false, reason: "mismatch", detected: "text/plain" });
    // A head cut inside a multi-byte character is still text.
    const cut = utf8("café au lait").slice(0, 4);
    assert.equal((await sniffFileType(cut, null, "a.txt")).ok, true);
  });
});

describe("chat files: text extraction", () => {
  it("reads each page of a PDF, in order", async () => {
    const pdf = await pdfWithPages([
      ["Kayaks are narrow boats.", "Paddles have two blades."],
      ["The harbour closes at nine."],
    ]);
    const text = await extractText({ kind: "pdf", bytes: pdf });
    assert.equal(text, "Kayaks are narrow boats.\nPaddles have two blades.\n\nThe harbour closes at nine.");
  });

  it("takes HTML's visible text, and text and Markdown as they are", async () => {
    const html = await extractText({
      kind: "html",
      bytes: utf8(
        '<html><head><style>p{}</style></head><body><h1>Boats</h1><p>A <a href="/x">kayak</a> floats.</p></body></html>',
      ),
    });
    assert.equal(html, "Boats\n\nA kayak floats.");
    assert.equal(await extractText({ kind: "markdown", bytes: utf8("\ufeff# Title\n\nBody") }), "# Title\n\nBody");
  });

  it("fails with a reason for a broken PDF or text that is not UTF-8", async () => {
    await assert.rejects(
      extractText({ kind: "pdf", bytes: utf8("%PDF-1.7\nnot really a pdf") }),
      (e: unknown) => e instanceof ExtractionError && /PDF could not be read/.test(e.message),
    );
    await assert.rejects(extractText({ kind: "text", bytes: new Uint8Array([0xc3, 0x28]) }), ExtractionError);
  });
});

describe("chat files: chunking", () => {
  const sentence = (i: number) => `Sentence number ${i} says something about boats and water.`;

  it("packs sentences up to the limit, repeats the tail of the chunk before, and keeps exact offsets", () => {
    const text = Array.from({ length: 40 }, (_, i) => sentence(i)).join(" ");
    const chunks = chunkText(text, { maxChars: 300, overlapChars: 120 });
    assert.ok(chunks.length > 5);
    for (const chunk of chunks) {
      assert.equal(chunk.content, text.slice(chunk.start, chunk.end));
      assert.ok(chunk.content.length <= 300, `${chunk.content.length}`);
      assert.match(chunk.content, /^Sentence number \d+/, "starts at a sentence");
      assert.match(chunk.content, /water\.$/, "ends at a sentence");
    }
    for (let i = 1; i < chunks.length; i++) {
      const previous = chunks[i - 1] as (typeof chunks)[number];
      const chunk = chunks[i] as (typeof chunks)[number];
      assert.ok(chunk.start < previous.end, "overlaps the chunk before");
      assert.ok(previous.end - chunk.start <= 120, "by at most the overlap");
    }
    // Nothing is lost: every sentence is in some chunk.
    for (let i = 0; i < 40; i++)
      assert.ok(
        chunks.some((c) => c.content.includes(sentence(i))),
        `${i}`,
      );
  });

  it("starts a chunk at each heading, with no overlap across it, and cuts an endless sentence at words", () => {
    const text = `# Boats\n\n${sentence(1)} ${sentence(2)}\n\n## Weather\n\n${sentence(3)}\n\n${"word ".repeat(200).trim()}`;
    const chunks = chunkText(text, { maxChars: 300, overlapChars: 100 });
    assert.equal(chunks[0]?.content.startsWith("# Boats"), true);
    const weather = chunks.find((c) => c.content.startsWith("## Weather"));
    assert.ok(weather, JSON.stringify(chunks));
    assert.ok(!weather.content.includes("Sentence number 2"), "no overlap across a heading");
    for (const chunk of chunks) {
      assert.ok(chunk.content.length <= 300);
      assert.equal(chunk.content, text.slice(chunk.start, chunk.end));
      assert.ok(!chunk.content.endsWith("wor"), "cut at a word");
    }
  });
});
