import { countTokens } from "gpt-tokenizer/encoding/o200k_base";
import type { ChatMessage } from "../../platform/ai/chat-client.ts";

/** What Strata tells the model before a chat's history. */
export const SYSTEM_PROMPT = "You are a helpful assistant. Answer clearly and accurately; say so when you do not know.";

/** Tokens each message costs beyond its text (role and separators), as OpenAI's chat format counts them. */
const PER_MESSAGE_TOKENS = 4;

/** A message's cost in the prompt, by the o200k_base encoding (GPT-4o's; close for other modern tokenizers). */
export function messageTokens(message: ChatMessage): number {
  return countTokens(message.content) + PER_MESSAGE_TOKENS;
}

/**
 * The prompt for a reply: the system prompt, then as much of the history
 * (oldest first, ending with the message to answer) as fits in `budget`
 * tokens, dropping the oldest first, and starting with a user message. The
 * last message always goes in, whatever it costs: without it there is
 * nothing to answer.
 */
export function promptWithin(
  history: readonly ChatMessage[],
  budget: number,
): {
  messages: ChatMessage[];
  tokens: number;
  dropped: number;
} {
  const system: ChatMessage = { role: "system", content: SYSTEM_PROMPT };
  let tokens = messageTokens(system);
  const kept: ChatMessage[] = [];
  for (let i = history.length - 1; i >= 0; i--) {
    const message = history[i] as ChatMessage;
    const cost = messageTokens(message);
    if (kept.length > 0 && tokens + cost > budget) break;
    kept.unshift(message);
    tokens += cost;
  }
  // A conversation starts with the user: a reply whose question was trimmed away goes too.
  while (kept.length > 1 && kept[0]?.role === "assistant") {
    tokens -= messageTokens(kept.shift() as ChatMessage);
  }
  return { messages: [system, ...kept], tokens, dropped: history.length - kept.length };
}

/** A title from the chat's first message: its first line, cut at a word near 60 characters. */
export function titleFrom(text: string): string {
  const line = (text.split("\n").find((l) => l.trim()) ?? text).trim().replace(/\s+/g, " ");
  if (line.length <= 60) return line;
  const cut = line.slice(0, 60);
  const space = cut.lastIndexOf(" ");
  return `${(space > 30 ? cut.slice(0, space) : cut).trimEnd()}…`;
}
