/**
 * The system prompt templates every deployment starts with (seed 000's
 * AIPromptTemplates with isSystem). Users add their own next to them.
 */
export const SYSTEM_TEMPLATES = [
  {
    name: "Improve clarity",
    category: "clarity",
    description: "Rewrite for clearer, more direct sentences without changing the meaning.",
    prompt_text:
      "Rewrite the document below so each sentence is clear and direct. Keep its meaning, facts and structure. Reply with the rewritten document only.",
  },
  {
    name: "Fix grammar and spelling",
    category: "grammar",
    description: "Correct grammar, spelling and punctuation only.",
    prompt_text:
      "Correct the grammar, spelling and punctuation of the document below. Change nothing else. Reply with the corrected document only.",
  },
  {
    name: "Make it concise",
    category: "concision",
    description: "Remove redundancy and filler.",
    prompt_text:
      "Shorten the document below by removing redundancy and filler while keeping every point. Reply with the shortened document only.",
  },
  {
    name: "Formal tone",
    category: "tone",
    description: "Rewrite in a formal, professional register.",
    prompt_text: "Rewrite the document below in a formal, professional tone. Reply with the rewritten document only.",
  },
  {
    name: "Friendly tone",
    category: "tone",
    description: "Rewrite in a warm, conversational register.",
    prompt_text: "Rewrite the document below in a warm, conversational tone. Reply with the rewritten document only.",
  },
  {
    name: "Simplify",
    category: "readability",
    description: "Use plain words and short sentences.",
    prompt_text:
      "Rewrite the document below with plain words and short sentences, for a general reader. Reply with the rewritten document only.",
  },
] as const;
