import { sql } from "kysely";
import type { Migration } from "../../platform/migrations/migration.ts";

/** Topics every journal starts with (seed 002's system topics), matched like a user's own. */
const SYSTEM_TOPICS = [
  ["work", "Jobs, colleagues, projects and career"],
  ["family", "Parents, children, siblings and home life"],
  ["relationships", "Partners, dating, friendship and love"],
  ["health", "Body, illness, doctors and recovery"],
  ["sleep", "Rest, tiredness, dreams and insomnia"],
  ["exercise", "Running, training, sport and movement"],
  ["anxiety", "Worry, stress, nerves and fear"],
  ["gratitude", "Thankfulness and appreciation"],
  ["money", "Finances, spending, saving and bills"],
  ["study", "School, exams, learning and courses"],
  ["travel", "Trips, holidays and places"],
  ["creativity", "Writing, art, music and making things"],
] as const;

/**
 * Seed 002's schema, with Strata's conventions: every entry names its owner
 * (a user, or an anonymous session until it registers) and its tenant; the
 * seed's users and user_sessions are the platform's identity tables.
 * Departures, each for a reason:
 * - word_count splits on any run of white space (the seed's split on single
 *   spaces counts "a  b" as three words and a newline as none);
 * - content_vector is the weighted vector the seed's search query builds
 *   (title A, content B), stored, so the query reads it from the GIN index
 *   instead of computing two tsvectors per row;
 * - mood_origin remembers whether the writer gave the mood, so an analysis
 *   fills it only when they did not;
 * - sentiment_analysis keeps VADER's compound score and the digest of the
 *   text it analyzed (a re-analysis after an edit replaces the row);
 * - entry_topics says who linked the topic (the writer's links survive a
 *   re-analysis; the analysis's own are replaced);
 * - topics may belong to an anonymous session (until it registers), and
 *   names are unique per owner regardless of case.
 */
export const journalMigrations: Migration[] = [
  {
    version: 300,
    name: "journal_schema",
    async up(db) {
      await sql`
        create table journal_entries (
          id uuid primary key default gen_random_uuid(),
          user_id uuid references users (id) on delete cascade,
          anonymous_session_id uuid references anonymous_sessions (id) on delete cascade,
          organization_id uuid not null references organizations (id),
          title varchar(500),
          content text not null,
          entry_date date not null,
          created_at timestamptz(3) not null default now(),
          updated_at timestamptz(3) not null default now(),
          mood_score decimal(3, 2),
          mood_origin text check (mood_origin in ('user', 'analysis')),
          word_count integer generated always as (
            array_length(regexp_split_to_array(trim(content), '\\s+'), 1)
          ) stored,
          content_vector tsvector generated always as (
            setweight(to_tsvector('english', coalesce(title, '')), 'A') ||
            setweight(to_tsvector('english', content), 'B')
          ) stored,
          constraint check_mood_range check (mood_score >= -1 and mood_score <= 1),
          constraint check_content_not_empty check (trim(content) != ''),
          constraint journal_entries_one_owner check ((user_id is null) != (anonymous_session_id is null)),
          constraint journal_entries_mood_origin check ((mood_score is null) = (mood_origin is null))
        )`.execute(db);
      await sql`
        create table sentiment_analysis (
          id uuid primary key default gen_random_uuid(),
          entry_id uuid not null references journal_entries (id) on delete cascade,
          model_name varchar(100) not null,
          sentiment_label varchar(50) not null check (sentiment_label in ('positive', 'neutral', 'negative')),
          confidence_score decimal(5, 4) not null,
          compound_score decimal(5, 4) not null check (compound_score between -1 and 1),
          emotions jsonb,
          text_sha256 text not null,
          analyzed_at timestamptz(3) not null default now(),
          unique (entry_id, model_name),
          constraint check_confidence_range check (confidence_score >= 0 and confidence_score <= 1)
        )`.execute(db);
      await sql`
        create table topics (
          id uuid primary key default gen_random_uuid(),
          name varchar(200) not null check (trim(name) != ''),
          description text,
          user_id uuid references users (id) on delete cascade,
          anonymous_session_id uuid references anonymous_sessions (id) on delete cascade,
          created_at timestamptz(3) not null default now(),
          is_system_topic boolean not null default false,
          unique (user_id, name),
          constraint topics_owner check (
            case when is_system_topic then user_id is null and anonymous_session_id is null
            else (user_id is null) != (anonymous_session_id is null) end)
        )`.execute(db);
      await sql`
        create table entry_topics (
          entry_id uuid not null references journal_entries (id) on delete cascade,
          topic_id uuid not null references topics (id) on delete cascade,
          relevance_score decimal(3, 2) not null default 1.0 check (relevance_score between 0 and 1),
          added_by text not null default 'analysis' check (added_by in ('user', 'analysis')),
          added_at timestamptz(3) not null default now(),
          primary key (entry_id, topic_id)
        )`.execute(db);
      await sql`
        create table psychology_insights (
          id uuid primary key default gen_random_uuid(),
          user_id uuid references users (id) on delete cascade,
          anonymous_session_id uuid references anonymous_sessions (id) on delete cascade,
          insight_type varchar(100) not null,
          insight_data jsonb not null,
          confidence_level decimal(3, 2),
          generated_at timestamptz(3) not null default now(),
          is_active boolean not null default true,
          constraint psychology_insights_one_owner check ((user_id is null) != (anonymous_session_id is null))
        )`.execute(db);

      // The seed's indexes.
      await sql`create index idx_journal_entries_user_date on journal_entries (user_id, entry_date desc)`.execute(db);
      await sql`create index idx_journal_entries_created on journal_entries (created_at desc)`.execute(db);
      await sql`create index idx_sentiment_analysis_entry on sentiment_analysis (entry_id)`.execute(db);
      await sql`create index idx_journal_entries_content_gin on journal_entries using gin (content_vector)`.execute(db);
      await sql`create index idx_journal_entries_title_gin on journal_entries using gin (to_tsvector('english', title))`.execute(
        db,
      );
      await sql`create index idx_journal_entries_content_trgm on journal_entries using gin (content gin_trgm_ops)`.execute(
        db,
      );
      // Strata's: fuzzy search matches titles too (search-sources.ts).
      await sql`create index journal_entries_title_trgm_idx on journal_entries using gin (title gin_trgm_ops)`.execute(
        db,
      );
      await sql`create index idx_topics_name_trgm on topics using gin (name gin_trgm_ops)`.execute(db);
      await sql`create index idx_sentiment_emotions_gin on sentiment_analysis using gin (emotions)`.execute(db);
      await sql`create index idx_psychology_insights_data on psychology_insights using gin (insight_data)`.execute(db);
      await sql`create index idx_entry_topics_composite on entry_topics (topic_id, relevance_score desc)`.execute(db);
      // The seed's migration template's two.
      await sql`create index idx_psychology_insights_user on psychology_insights (user_id)`.execute(db);
      await sql`create index idx_psychology_insights_type on psychology_insights (insight_type)`.execute(db);
      // Strata's: the cursor pagination's order per owner, an anonymous owner's rows, topics by owner and name.
      await sql`create index journal_entries_user_created_idx on journal_entries (user_id, created_at desc, id desc)`.execute(
        db,
      );
      await sql`
        create index journal_entries_session_idx on journal_entries (anonymous_session_id, created_at desc, id desc)
        where anonymous_session_id is not null`.execute(db);
      await sql`create unique index topics_owner_name_idx on topics (coalesce(user_id, anonymous_session_id), lower(name))
        where not is_system_topic`.execute(db);
      await sql`create unique index topics_system_name_idx on topics (lower(name)) where is_system_topic`.execute(db);
      await sql`create index topics_session_idx on topics (anonymous_session_id) where anonymous_session_id is not null`.execute(
        db,
      );
      await sql`create index psychology_insights_session_idx on psychology_insights (anonymous_session_id)
        where anonymous_session_id is not null`.execute(db);

      // Seed 002's pre-computed statistics, refreshed concurrently by a scheduled job (analytics.ts).
      await sql`
        create materialized view user_statistics as
        select
          coalesce(user_id, anonymous_session_id) as owner_id,
          user_id,
          anonymous_session_id,
          count(*) as total_entries,
          avg(mood_score) as avg_mood,
          min(entry_date) as first_entry_date,
          max(entry_date) as last_entry_date,
          count(distinct date_trunc('month', entry_date)) as active_months,
          now() as refreshed_at
        from journal_entries
        group by user_id, anonymous_session_id`.execute(db);
      // REFRESH ... CONCURRENTLY needs a unique index on plain columns.
      await sql`create unique index user_statistics_owner_idx on user_statistics (owner_id)`.execute(db);

      for (const [name, description] of SYSTEM_TOPICS) {
        await sql`insert into topics (name, description, is_system_topic) values (${name}, ${description}, true)`.execute(
          db,
        );
      }
    },
    async down(db) {
      await sql`drop materialized view user_statistics`.execute(db);
      await sql`drop table psychology_insights`.execute(db);
      await sql`drop table entry_topics`.execute(db);
      await sql`drop table topics`.execute(db);
      await sql`drop table sentiment_analysis`.execute(db);
      await sql`drop table journal_entries`.execute(db);
    },
  },
  {
    version: 301,
    name: "journal_lexemes",
    async up(db) {
      // Typo-tolerant search corrects query words against this vocabulary (its trigram index is small and
      // quick) and then searches by full text, instead of measuring trigram similarity against every
      // matching entry's whole content, which at 100,000 entries took most of a second.
      await sql`create table journal_lexemes (lexeme text primary key)`.execute(db);
      await sql`create index journal_lexemes_trgm_idx on journal_lexemes using gin (lexeme gin_trgm_ops)`.execute(db);
      await sql`
        insert into journal_lexemes (lexeme)
        select distinct u.lexeme from journal_entries e, unnest(e.content_vector) u
        on conflict do nothing`.execute(db);
    },
    async down(db) {
      await sql`drop table journal_lexemes`.execute(db);
    },
  },
];
