import { sql } from "kysely";
import { transaction } from "../../platform/database/transaction.ts";
import { ownerColumn, ownerCondition } from "../../platform/identity/owner-scope.ts";
import type { Principal } from "../../platform/identity/principal.ts";
import type { Platform } from "../../runtime/platform.ts";
import { INSIGHTS_TTL_MS, insightsKey, ownerIdOf } from "./caches.ts";
import type { InsightsView } from "./schemas.ts";

/** Seed 002's schedule for the statistics view: daily at 02:00. */
export const STATISTICS_REFRESH_CRON = "0 2 * * *";

const WEEKDAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

const ownerFilter = (principal: Principal) => ownerCondition(principal);

/** Seed 002's mood trends: per week over the last six months, average, count and spread of the caller's moods. */
export async function moodTrends(platform: Platform, principal: Principal) {
  const rows = await sql<{ week: string; avg_mood: string | null; entry_count: string; mood_variance: string | null }>`
    select
      date_trunc('week', entry_date)::date::text as week,
      avg(mood_score) as avg_mood,
      count(*) as entry_count,
      stddev(mood_score) as mood_variance
    from journal_entries
    where ${ownerFilter(principal)}
      and entry_date >= current_date - interval '6 months'
    group by week
    order by week`.execute(platform.database.read);
  return rows.rows.map((r) => ({
    week: r.week,
    avgMood: r.avg_mood === null ? null : round(Number(r.avg_mood)),
    entryCount: Number(r.entry_count),
    moodVariance: r.mood_variance === null ? null : round(Number(r.mood_variance)),
  }));
}

/** The seed's user_statistics view, as last refreshed; zeros for an owner it has not seen yet. */
export async function statistics(platform: Platform, principal: Principal) {
  const row = await platform.database.read
    .selectFrom("user_statistics")
    .select([
      "total_entries",
      "avg_mood",
      sql<string>`first_entry_date::text`.as("first_entry_date"),
      sql<string>`last_entry_date::text`.as("last_entry_date"),
      "active_months",
      "refreshed_at",
    ])
    .where("owner_id", "=", ownerIdOf(principal))
    .executeTakeFirst();
  return {
    totalEntries: Number(row?.total_entries ?? 0),
    avgMood: row?.avg_mood == null ? null : round(Number(row.avg_mood)),
    firstEntryDate: row?.first_entry_date ?? null,
    lastEntryDate: row?.last_entry_date ?? null,
    activeMonths: Number(row?.active_months ?? 0),
    refreshedAt: row ? new Date(row.refreshed_at).toISOString() : null,
  };
}

/** The scheduled job: REFRESH MATERIALIZED VIEW CONCURRENTLY, so reads go on meanwhile. */
export async function refreshStatistics(platform: Platform): Promise<void> {
  await sql`refresh materialized view concurrently user_statistics`.execute(platform.database.db);
}

/**
 * Insights (seed 002's `api:analytics:{user_id}`, cache-aside for six hours,
 * dropped when the caller's entries change): writing frequency, mood by
 * weekday, top topics and streaks. Each computation is also kept as the
 * caller's active psychology_insights row of its type (the previous one
 * deactivated), so insights have a history.
 */
export async function insights(platform: Platform, principal: Principal): Promise<InsightsView> {
  const key = insightsKey(ownerIdOf(principal));
  const cached = await platform.kv.get(key).catch(() => null);
  if (cached) return JSON.parse(cached) as InsightsView;
  const db = platform.database.read;
  const where = ownerFilter(principal);
  const [frequency, weekdays, topics, days] = await Promise.all([
    sql<{ last30: string; last84: string; avg_words: string | null }>`
      select
        count(*) filter (where entry_date > current_date - 30) as last30,
        count(*) filter (where entry_date > current_date - 84) as last84,
        avg(word_count) as avg_words
      from journal_entries where ${where}`.execute(db),
    sql<{ dow: number; avg_mood: string | null; n: string }>`
      select extract(dow from entry_date)::int as dow, avg(mood_score) as avg_mood, count(*) as n
      from journal_entries where ${where} group by dow order by dow`.execute(db),
    sql<{ id: string; name: string; n: string }>`
      select t.id, t.name, count(*) as n
      from entry_topics et join topics t on t.id = et.topic_id
      where et.entry_id in (select id from journal_entries where ${where})
      group by t.id, t.name order by n desc, t.name limit 5`.execute(db),
    sql<{ day: string }>`
      select distinct entry_date::text as day from journal_entries
      where ${where} order by day desc`.execute(db),
  ]);
  const f = frequency.rows[0];
  const view: InsightsView = {
    writingFrequency: {
      entriesLast30Days: Number(f?.last30 ?? 0),
      entriesPerWeek: round(Number(f?.last84 ?? 0) / 12),
      averageWords: f?.avg_words == null ? null : round(Number(f.avg_words)),
    },
    moodByWeekday: WEEKDAYS.map((weekday, dow) => {
      const row = weekdays.rows.find((r) => Number(r.dow) === dow);
      return {
        weekday,
        avgMood: row?.avg_mood == null ? null : round(Number(row.avg_mood)),
        entryCount: Number(row?.n ?? 0),
      };
    }),
    topTopics: topics.rows.map((t) => ({ id: t.id, name: t.name, entryCount: Number(t.n) })),
    streaks: streaksOf(days.rows.map((d) => d.day)),
    generatedAt: new Date().toISOString(),
  };
  await keepInsights(platform, principal, view);
  await platform.kv.set(key, JSON.stringify(view), { ttlMs: INSIGHTS_TTL_MS }).catch(() => false);
  return view;
}

async function keepInsights(platform: Platform, principal: Principal, view: InsightsView): Promise<void> {
  const owner = ownerColumn(principal);
  const rows = [
    { insight_type: "writing_frequency" as const, insight_data: view.writingFrequency },
    { insight_type: "mood_by_weekday" as const, insight_data: view.moodByWeekday },
    { insight_type: "top_topics" as const, insight_data: view.topTopics },
    { insight_type: "streaks" as const, insight_data: view.streaks },
  ];
  await transaction(platform.database.db, async (trx) => {
    await trx
      .updateTable("psychology_insights")
      .set({ is_active: false })
      .where(owner.column, "=", owner.value)
      .where("is_active", "=", true)
      .execute();
    await trx
      .insertInto("psychology_insights")
      .values(
        rows.map((r) => ({
          [owner.column]: owner.value,
          insight_type: r.insight_type,
          insight_data: JSON.stringify(r.insight_data),
          confidence_level: null,
        })),
      )
      .execute();
  });
}

/** Consecutive days with an entry: the run ending today or yesterday, and the longest; `days` newest first, distinct. */
export function streaksOf(days: readonly string[], today = new Date()): { current: number; longest: number } {
  const dayNumber = (d: string) => Math.round(Date.parse(`${d}T00:00:00Z`) / 86_400_000);
  const numbers = days.map(dayNumber);
  let longest = 0;
  let run = 0;
  let previous: number | null = null;
  for (const n of numbers) {
    run = previous !== null && previous - n === 1 ? run + 1 : 1;
    longest = Math.max(longest, run);
    previous = n;
  }
  const todayNumber = dayNumber(today.toISOString().slice(0, 10));
  let current = 0;
  if (numbers[0] !== undefined && todayNumber - numbers[0] <= 1) {
    current = 1;
    for (let i = 1; i < numbers.length && (numbers[i - 1] as number) - (numbers[i] as number) === 1; i++) current++;
  }
  return { current, longest };
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
