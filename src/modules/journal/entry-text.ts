import { textSha256 } from "../../platform/embeddings/vector-store.ts";

/** The embedding source of journal entries (platform/embeddings). */
export const ENTRY_SOURCE = "journal.entries";

/** What an entry's analysis and embedding read: the title and the content, as seed 002 combines them. */
export function entryText(title: string | null, content: string): string {
  return title ? `${title}\n\n${content}` : content;
}

export function entryTextSha256(title: string | null, content: string): string {
  return textSha256(entryText(title, content));
}
