import { readFileSync } from "node:fs";
import path from "node:path";
import { brotliDecompressSync } from "node:zlib";

/**
 * The real edit histories the product is measured against: every revision
 * of a public file's git history, kept beside the repository (see that
 * folder's README for git's own pack size of the same revisions).
 */
export const REAL_HISTORIES_DIR = path.resolve(import.meta.dirname, "../../../shared/data/histories");
const FILE = path.join(REAL_HISTORIES_DIR, "the-art-of-command-line.ndjson.br");

/** Each file's revisions, oldest first, by path (`README.md`, `README-zh.md`). */
export function readRealHistories(): Map<string, string[]> {
  const byPath = new Map<string, string[]>();
  for (const line of brotliDecompressSync(readFileSync(FILE)).toString("utf8").split("\n")) {
    if (!line.trim()) continue;
    const revision = JSON.parse(line) as { path: string; content: string };
    const list = byPath.get(revision.path) ?? [];
    list.push(revision.content);
    byPath.set(revision.path, list);
  }
  return byPath;
}

/** The revisions of one file, oldest first. */
export function readRealHistory(file: "README.md" | "README-zh.md"): string[] {
  return readRealHistories().get(file) ?? [];
}
