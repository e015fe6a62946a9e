import { type Kysely, sql } from "kysely";
import type { Tables } from "../database/tables.ts";
import { transaction } from "../database/transaction.ts";
import type { KvStore } from "../kv/kv-store.ts";
import type { Logger } from "../logging/logger.ts";
import type { Change, ChangeInput, ChangeTopic } from "./change.ts";
import { appendChangesScript } from "./history-scripts.ts";

/** Where committed changes are announced to every process (a JSON array of changes, by position). */
export const FEED_CHANNEL = "changes:feed";
const KEYS = { seq: "changes:seq", history: "changes:history", relayed: "changes:relayed" };
/**
 * Arbitrary constant: the advisory lock one relay at a time holds, and each
 * writer to the outbox holds shared until it commits (migration 6), so a
 * relay never starts between a writer's check for a pending job and its commit.
 */
const RELAY_LOCK = 727_365_006;
/** Outbox rows relayed per round. */
const BATCH = 500;

export interface ChangeFeedOptions {
  /** Changes the history keeps for clients that reconnect. */
  historySize: number;
}

/** A change as the history holds it: with the outbox row it came from, for the relay's duplicate check. */
type Stored = ChangeInput & { outboxId: string };

/**
 * The platform's change feed (DESIGN.md: the seed's WebSocket broadcasting,
 * made a service every module publishes to). A module records a change in
 * the transaction that makes it (`record`, or a trigger of its own tables);
 * once that transaction commits, the relay job (`flush`, queue
 * `changes.relay`) moves committed outbox rows, in order, to the
 * key-value store's bounded history, where each gets the next position,
 * and announces them on FEED_CHANNEL to every process, whose hub delivers
 * them to its WebSocket subscribers (change-hub.ts). A transaction that
 * rolls back leaves no change; a relay that fails leaves its rows in the
 * outbox for the next one (the job's retry, the next write's job, or the
 * sweep each minute), and
 * a relay that appended but could not delete appends nothing twice.
 *
 * One relay at a time (a Postgres advisory lock), so positions follow the
 * order in which changes were relayed, which for one subject is the order
 * their transactions committed.
 */
export class ChangeFeed {
  readonly #topics = new Map<string, ChangeTopic>();

  constructor(
    private readonly db: Kysely<Tables>,
    private readonly kv: KvStore,
    private readonly logger: Logger,
    readonly options: ChangeFeedOptions,
  ) {}

  /** A topic a module publishes to, with who may follow it (module-wiring.ts registers them). */
  registerTopic(topic: ChangeTopic): void {
    if (this.#topics.has(topic.name)) throw new Error(`change topic ${topic.name} is registered twice`);
    this.#topics.set(topic.name, topic);
  }

  topic(name: string): ChangeTopic | undefined {
    return this.#topics.get(name);
  }

  /**
   * Records changes in the caller's transaction (or on their own, given the
   * database): the outbox's trigger makes sure a relay job is pending, and
   * it relays them once the transaction has committed.
   */
  async record(trx: Kysely<Tables>, changes: ChangeInput | ChangeInput[]): Promise<void> {
    const list = Array.isArray(changes) ? changes : [changes];
    if (list.length === 0) return;
    const unknown = list.find((c) => !this.#topics.has(c.topic));
    if (unknown) throw new Error(`no change topic ${unknown.topic}`);
    await trx
      .insertInto("change_outbox")
      .values(
        list.map((c) => ({
          topic: c.topic,
          subject: c.subject,
          event: c.event,
          audience: JSON.stringify(c.audience),
          data: JSON.stringify(c.data),
        })),
      )
      .execute();
  }

  /**
   * Relays every committed outbox row. Never throws: a failure is logged and
   * the rows wait for the next relay. Resolves to how many were relayed.
   */
  async flush(): Promise<number> {
    let relayed = 0;
    try {
      for (;;) {
        const fresh = await this.#relayRound();
        relayed += fresh.count;
        if (fresh.changes.length > 0) await this.kv.publish(FEED_CHANNEL, JSON.stringify(fresh.changes));
        if (fresh.count < BATCH) return relayed;
      }
    } catch (error) {
      this.logger.warn({ err: error }, "relaying changes failed; they wait in the outbox for the next relay");
      return relayed;
    }
  }

  async #relayRound(): Promise<{ count: number; changes: Change[] }> {
    return transaction(this.db, async (trx) => {
      await sql`select pg_advisory_xact_lock(${RELAY_LOCK})`.execute(trx);
      const rows = await trx
        .selectFrom("change_outbox")
        .select(["id", "topic", "subject", "event", "audience", "data"])
        .orderBy("id")
        .limit(BATCH)
        .execute();
      if (rows.length === 0) return { count: 0, changes: [] };
      const stored: Stored[] = rows.map((r) => ({
        outboxId: String(r.id),
        topic: r.topic,
        subject: r.subject,
        event: r.event,
        audience: r.audience,
        data: r.data,
      }));
      const positions = (await this.kv.runScript(
        appendChangesScript,
        [KEYS.seq, KEYS.history, KEYS.relayed],
        [this.options.historySize, ...stored.flatMap((s) => [s.outboxId, JSON.stringify(s)])],
      )) as number[];
      await trx
        .deleteFrom("change_outbox")
        .where(
          "id",
          "in",
          rows.map((r) => r.id),
        )
        .execute();
      // A negative position was appended by an earlier relay that failed before it could delete: already announced.
      const changes = stored.flatMap(({ outboxId: _, ...change }, i) => {
        const position = positions[i] as number;
        return position > 0 ? [{ ...change, position }] : [];
      });
      return { count: rows.length, changes };
    });
  }

  /** The latest position handed out (0 before the first change). */
  async latestPosition(): Promise<number> {
    return Number((await this.kv.get(KEYS.seq)) ?? "0");
  }

  /**
   * The history after `position`, in order; `tooOld` when changes a client
   * at `position` has not seen are no longer kept (it must reload).
   */
  async since(position: number): Promise<{ changes: Change[]; tooOld: boolean }> {
    const [oldest] = await this.kv.zrange(KEYS.history, 0, 0);
    const latest = await this.latestPosition();
    if (position >= latest) return { changes: [], tooOld: false };
    if (!oldest || oldest.score > position + 1) return { changes: [], tooOld: true };
    const members = await this.kv.zrangeByScore(KEYS.history, position + 1, Number.POSITIVE_INFINITY);
    const changes = members.map(({ member, score }) => {
      const { outboxId: _, ...change } = JSON.parse(member.slice(member.indexOf(" ") + 1)) as Stored;
      return { ...change, position: score };
    });
    return { changes, tooOld: false };
  }
}
