import { fileTypeFromBuffer } from "file-type";
import type { TextKind } from "./text-extraction.ts";

/** The content types Strata accepts for chat files, each the kind of text it holds. */
export const ACCEPTED_TYPES: Readonly<Record<string, TextKind>> = {
  "text/plain": "text",
  "text/markdown": "markdown",
  "text/html": "html",
  "application/pdf": "pdf",
};

/** How a file's own bytes identify it, and the declared type they contradict, if they do. */
export type Sniffed =
  | { ok: true; mime: keyof typeof ACCEPTED_TYPES & string; kind: TextKind }
  | { ok: false; reason: "unsupported" | "mismatch"; detected: string | null };

/**
 * The file's type from its first bytes, never from what the client says:
 * binary formats by their signature (file-type), text by being valid UTF-8
 * with no control characters but white space, HTML by its opening tag, and
 * Markdown only by its name or declared type (its text is plain text to
 * any sniffer). A declared type that the content contradicts (a PDF sent
 * as text/plain, an executable sent as a PDF) is a mismatch.
 */
export async function sniffFileType(head: Uint8Array, declared: string | null, filename: string): Promise<Sniffed> {
  const declaredMime = declared?.split(";")[0]?.trim().toLowerCase() || null;
  const binary = await fileTypeFromBuffer(head);
  if (binary) {
    if (binary.mime !== "application/pdf") return { ok: false, reason: "unsupported", detected: binary.mime };
    if (declaredMime && declaredMime !== "application/pdf" && declaredMime !== "application/octet-stream") {
      return { ok: false, reason: "mismatch", detected: binary.mime };
    }
    return { ok: true, mime: "application/pdf", kind: "pdf" };
  }
  if (!looksLikeText(head)) return { ok: false, reason: "unsupported", detected: null };
  const html = /^\s*(<!doctype html|<html[\s>]|<head[\s>]|<body[\s>])/i.test(
    new TextDecoder().decode(head.slice(0, 512)),
  );
  const markdown = declaredMime === "text/markdown" || /\.(md|markdown)$/i.test(filename);
  const mime = html ? "text/html" : markdown ? "text/markdown" : "text/plain";
  if (declaredMime === "application/pdf" || (declaredMime === "text/html" && !html)) {
    return { ok: false, reason: "mismatch", detected: mime };
  }
  return { ok: true, mime, kind: ACCEPTED_TYPES[mime] as TextKind };
}

/** UTF-8 with no control characters but tab, newline and carriage return (a cut multi-byte tail is allowed). */
function looksLikeText(head: Uint8Array): boolean {
  if (head.length === 0) return false;
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(trimPartialCharacter(head));
  } catch {
    return false;
  }
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if ((code < 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0d) || code === 0x7f) return false;
  }
  return true;
}

/** The head without a multi-byte character cut off at its end (the head is the file's first bytes only). */
function trimPartialCharacter(head: Uint8Array): Uint8Array {
  let end = head.length;
  for (let back = 1; back <= 3 && end - back >= 0; back++) {
    const byte = head[end - back] as number;
    if ((byte & 0xc0) === 0x80) continue; // a continuation byte: look further back
    if (byte >= 0xc0) {
      const length = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : 2;
      if (back < length) end -= back;
    }
    break;
  }
  return head.subarray(0, end);
}
