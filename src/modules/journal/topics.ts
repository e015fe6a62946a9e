import { CompiledQuery, sql } from "kysely";
import { preparedStatement } from "../../platform/database/prepared-statements.ts";
import { sqlState } from "../../platform/database/sqlstate.ts";
import { transaction } from "../../platform/database/transaction.ts";
import { errors } from "../../platform/errors/catalog.ts";
import { ownerColumn } from "../../platform/identity/owner-scope.ts";
import type { Principal } from "../../platform/identity/principal.ts";
import type { Platform } from "../../runtime/platform.ts";
import { TOPIC_MATCH_THRESHOLD } from "./analysis.ts";
import { ownerIdOf, TOPIC_SUGGESTIONS_TTL_MS, topicSuggestionsKey } from "./caches.ts";
import { textAnalysisTask } from "./compute-tasks.ts";
import { scoped } from "./entries.ts";
import type { TopicSuggestionView, TopicView } from "./schemas.ts";
import { TOPIC_SOURCE, topicText } from "./topic-embeddings.ts";

/** Entries the suggestions read: the caller's latest. */
const SUGGESTION_ENTRIES = 30;

interface TopicRow {
  id: string;
  name: string;
  description: string | null;
  is_system_topic: boolean;
  created_at: Date | string;
  entry_count: string | number | null;
  sim?: number;
}

/**
 * The topics the caller may use (the system's and their own), with how many
 * of their entries each links; with `match`, seed 002's fuzzy topic query
 * (`name % $1 or similarity(name, $1) > 0.3`, best first, ten at most).
 */
export async function listTopics(platform: Platform, principal: Principal, match?: string): Promise<TopicView[]> {
  const owner = ownerColumn(principal);
  const db = platform.database.read;
  let rows: TopicRow[];
  if (match !== undefined) {
    const text = matchStatement(owner.column, owner.organizationId !== null);
    const parameters = owner.organizationId ? [match, owner.value, owner.organizationId] : [match, owner.value];
    rows = (await db.executeQuery<TopicRow>(CompiledQuery.raw(text, parameters))).rows;
  } else {
    const mine = scoped(db, principal).select("id");
    rows = await db
      .selectFrom("topics as t")
      .select([
        "t.id",
        "t.name",
        "t.description",
        "t.is_system_topic",
        "t.created_at",
        (eb) =>
          eb
            .selectFrom("entry_topics as et")
            .select(sql<string>`count(*)`.as("n"))
            .whereRef("et.topic_id", "=", "t.id")
            .where("et.entry_id", "in", mine)
            .as("entry_count"),
      ])
      .where((eb) => eb.or([eb("t.is_system_topic", "=", true), eb(`t.${owner.column}`, "=", owner.value)]))
      .orderBy("t.is_system_topic")
      .orderBy("t.name")
      .execute();
  }
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    description: r.description,
    isSystemTopic: r.is_system_topic,
    entryCount: Number(r.entry_count ?? 0),
    ...(r.sim !== undefined ? { similarity: Number(r.sim) } : {}),
    createdAt: new Date(r.created_at).toISOString(),
  }));
}

const matchStatements = new Map<string, string>();

/**
 * Seed 002's fuzzy topic query for one kind of owner, a fixed text sent as
 * a prepared statement (platform/database/prepared-statements.ts): the
 * query itself takes a tenth of a millisecond, and planning it on every call
 * cost more than that. $1 is the text to match, $2 the owner, $3 the API
 * key's organization.
 */
function matchStatement(column: "user_id" | "anonymous_session_id", withOrganization: boolean): string {
  const key = `${column}:${withOrganization}`;
  let text = matchStatements.get(key);
  if (!text) {
    const organization = withOrganization ? " and e.organization_id = $3" : "";
    text = preparedStatement(
      `journal_topic_match_${column}${withOrganization ? "_org" : ""}`,
      `select t.id, t.name, t.description, t.is_system_topic, t.created_at,
        (select count(*) from entry_topics et join journal_entries e on e.id = et.entry_id
          where et.topic_id = t.id and e.${column} = $2${organization}) as entry_count,
        similarity(t.name, $1) as sim
      from topics t
      where (t.is_system_topic or t.${column} = $2) and (t.name % $1 or similarity(t.name, $1) > ${TOPIC_MATCH_THRESHOLD})
      order by sim desc, t.name
      limit 10`,
    );
    matchStatements.set(key, text);
  }
  return text;
}

/** A topic of the caller's own; a name they (or the system) already have, in any case, is 409 topic_name_taken. */
export async function createTopic(
  platform: Platform,
  principal: Principal,
  input: { name: string; description?: string | null },
): Promise<TopicView> {
  const owner = ownerColumn(principal);
  const name = input.name.trim().replace(/\s+/g, " ");
  const db = platform.database.db;
  const existing = await db
    .selectFrom("topics")
    .select("id")
    .where(sql<boolean>`lower(name) = lower(${name})`)
    .where((eb) => eb.or([eb("is_system_topic", "=", true), eb(owner.column, "=", owner.value)]))
    .executeTakeFirst();
  if (existing) throw errors.topicNameTaken(name, existing.id);
  try {
    const row = await transaction(db, async (trx) => {
      const made = await trx
        .insertInto("topics")
        .values({ name, description: input.description ?? null, [owner.column]: owner.value })
        .returning(["id", "name", "description", "is_system_topic", "created_at"])
        .executeTakeFirstOrThrow();
      await platform.vectors.queue(trx, TOPIC_SOURCE, [{ id: made.id, text: topicText(made.name, made.description) }]);
      return made;
    });
    await platform.kv.del(topicSuggestionsKey(ownerIdOf(principal))).catch(() => 0);
    return {
      id: row.id,
      name: row.name,
      description: row.description,
      isSystemTopic: row.is_system_topic,
      entryCount: 0,
      createdAt: new Date(row.created_at).toISOString(),
    };
  } catch (error) {
    // Two creates of one name at once: the index decides, and the loser hears which topic won.
    if (sqlState(error) !== "23505") throw error;
    const winner = await db
      .selectFrom("topics")
      .select("id")
      .where(sql<boolean>`lower(name) = lower(${name})`)
      .where(owner.column, "=", owner.value)
      .executeTakeFirst();
    throw errors.topicNameTaken(name, winner?.id ?? "");
  }
}

/**
 * Topic suggestions (seed 002's `models:topics:{user_id}`, two hours): the
 * keywords of the caller's latest entries that are not yet topics, by how
 * many entries use them, each with the closest existing topic. Dropped when
 * the caller writes, creates a topic or an analysis finishes.
 */
export async function topicSuggestions(platform: Platform, principal: Principal): Promise<TopicSuggestionView[]> {
  const key = topicSuggestionsKey(ownerIdOf(principal));
  const cached = await platform.kv.get(key).catch(() => null);
  if (cached) return JSON.parse(cached) as TopicSuggestionView[];
  const entries = await scoped(platform.database.read, principal)
    .select(["title", "content"])
    .orderBy("created_at", "desc")
    .limit(SUGGESTION_ENTRIES)
    .execute();
  const counts = new Map<string, number>();
  for (const entry of entries) {
    // Long entries are read off the event loop, as the analysis reads them.
    const { keywords } = await platform.compute.run(
      textAnalysisTask,
      `${entry.title ?? ""}\n${entry.content.slice(0, 20_000)}`,
    );
    for (const { word } of keywords.slice(0, 5)) counts.set(word, (counts.get(word) ?? 0) + 1);
  }
  const owner = ownerColumn(principal);
  const suggestions: TopicSuggestionView[] = [];
  for (const [name, n] of [...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, 10)) {
    const closest = await platform.database.read
      .selectFrom("topics")
      .select(["id", "name", sql<number>`similarity(lower(name), ${name})`.as("sim")])
      .where((eb) => eb.or([eb("is_system_topic", "=", true), eb(owner.column, "=", owner.value)]))
      .orderBy("sim", "desc")
      .limit(1)
      .executeTakeFirst();
    if (closest && closest.name.toLowerCase() === name) continue;
    suggestions.push({
      name,
      entries: n,
      closestTopic:
        closest && Number(closest.sim) > 0
          ? { id: closest.id, name: closest.name, similarity: Number(closest.sim) }
          : null,
    });
  }
  await platform.kv.set(key, JSON.stringify(suggestions), { ttlMs: TOPIC_SUGGESTIONS_TTL_MS }).catch(() => false);
  return suggestions;
}
