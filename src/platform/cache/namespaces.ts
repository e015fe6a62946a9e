/**
 * Every cache namespace Strata uses, with its key prefix and time to live,
 * as the seeds lay them out. Seed 000 (writing platform): doc, ai, user,
 * template. Seed 002 (journaling): the auth, api, models and tasks families.
 * Seed 003 (chat): its `cache:{key}` (chat lists and recent messages).
 * A namespace's keys are `<prefix><key>` in the key-value store.
 */
export const CACHE_NAMESPACES = {
  // seed 000
  doc: { prefix: "doc:", ttlSeconds: 300 },
  ai: { prefix: "ai:", ttlSeconds: 1800 },
  user: { prefix: "user:", ttlSeconds: 900 },
  template: { prefix: "template:", ttlSeconds: 3600 },
  // seed 002
  "auth.sessions": { prefix: "auth:sessions:", ttlSeconds: 7 * 24 * 3600 },
  "auth.refresh": { prefix: "auth:refresh:", ttlSeconds: 30 * 24 * 3600 },
  "api.response": { prefix: "api:response:", ttlSeconds: 300 },
  "api.user_data": { prefix: "api:user_data:", ttlSeconds: 3600 },
  "api.analytics": { prefix: "api:analytics:", ttlSeconds: 6 * 3600 },
  "models.embeddings": { prefix: "models:embeddings:", ttlSeconds: 24 * 3600 },
  "models.sentiment": { prefix: "models:sentiment:", ttlSeconds: 24 * 3600 },
  "models.topics": { prefix: "models:topics:", ttlSeconds: 2 * 3600 },
  "tasks.status": { prefix: "tasks:status:", ttlSeconds: 3600 },
  "tasks.results": { prefix: "tasks:results:", ttlSeconds: 24 * 3600 },
  // seed 003
  cache: { prefix: "cache:", ttlSeconds: 300 },
} as const satisfies Record<string, { prefix: string; ttlSeconds: number }>;

export type CacheNamespace = keyof typeof CACHE_NAMESPACES;
