import type { Principal } from "../identity/principal.ts";
import type { KvStore, Unsubscribe } from "../kv/kv-store.ts";
import type { Logger } from "../logging/logger.ts";
import { audienceAllows, type Change } from "./change.ts";
import { type ChangeFeed, FEED_CHANNEL } from "./change-feed.ts";

/** What a subscriber follows: a topic, whole (`subject` null) or one subject of it. */
export interface Interest {
  topic: string;
  subject: string | null;
}

/** The connection a subscription writes to (a WebSocket, in the HTTP layer). */
export interface ChangeSink {
  /** Sends one text frame. */
  send(text: string): void;
  /** Bytes queued but not yet written: a sink that stops reading falls behind. */
  readonly bufferedAmount: number;
  close(code: number, reason: string): void;
}

/** WebSocket close codes the feed uses (4000-4999 are the application's). */
export const CLOSE = {
  /** The session ended, the key was revoked or the membership removed. */
  accessEnded: 4401,
  /** The subscriber fell too far behind; it must reload and subscribe afresh. */
  tooFarBehind: 4409,
} as const;

/** What one connection follows, and as whom; access is checked again at every delivery. */
export class Subscription {
  /** The last position delivered (or skipped as not for this subscriber). */
  position = 0;
  /** Changes heard while the history was being replayed, delivered after it. */
  #pending: Change[] | null = [];
  closed = false;

  constructor(
    readonly principal: Principal,
    readonly interests: readonly Interest[],
    readonly sink: ChangeSink,
  ) {}

  follows(change: Change): boolean {
    return this.interests.some((i) => i.topic === change.topic && (i.subject === null || i.subject === change.subject));
  }

  get live(): boolean {
    return this.#pending === null;
  }

  hold(change: Change): void {
    this.#pending?.push(change);
  }

  /** Ends the replay: what was held meanwhile is delivered next. */
  goLive(): Change[] {
    const held = this.#pending ?? [];
    this.#pending = null;
    return held;
  }
}

/** Subscribers visited before the hub lets other work run (about a millisecond of writes). */
const SENDS_PER_STEP = 1_000;

export interface ChangeHubOptions {
  /** Bytes a subscriber may leave unread before it is told to reload. */
  maxBufferedBytes: number;
}

/**
 * One process's side of the change feed: hears every committed change on
 * FEED_CHANNEL and delivers it, once and in order, to this process's
 * subscribers who follow its topic and may see it. A change missed on the
 * channel (a gap in positions) is read from the history before anything
 * after it. Access is checked at every delivery (the change's audience
 * against the subscriber's principal, and whether its session or key has
 * ended since), so a revoked session stops receiving at once.
 */
export class ChangeHub {
  readonly #subscriptions = new Set<Subscription>();
  /** Sessions, keys and memberships that ended while subscribed (identity's announcements). */
  readonly #ended = new Set<string>();
  #position = 0;
  #queue: Promise<void> = Promise.resolve();
  #unsubscribe: Unsubscribe | null = null;
  /** Deliveries written to sockets since start, for /metrics. */
  delivered = 0;
  #sinceYield = 0;

  constructor(
    private readonly feed: ChangeFeed,
    private readonly kv: KvStore,
    private readonly logger: Logger,
    private readonly options: ChangeHubOptions,
  ) {}

  async start(): Promise<void> {
    if (this.#unsubscribe) return;
    this.#position = await this.feed.latestPosition();
    this.#unsubscribe = await this.kv.subscribe(FEED_CHANNEL, (message) => {
      let changes: Change[];
      try {
        changes = JSON.parse(message) as Change[];
      } catch {
        return;
      }
      this.#queue = this.#queue
        .then(() => this.#receive(changes))
        .catch((error) => {
          this.logger.error({ err: error }, "delivering changes failed");
        });
    });
  }

  async stop(): Promise<void> {
    await this.#unsubscribe?.();
    this.#unsubscribe = null;
    for (const s of this.#subscriptions) s.sink.close(1001, "server shutting down");
    this.#subscriptions.clear();
  }

  /** The last position this process has heard. */
  get position(): number {
    return this.#position;
  }

  get subscribers(): number {
    return this.#subscriptions.size;
  }

  /**
   * Adds a subscription, first replaying what it missed after `after` (its
   * last seen position), or nothing when `after` is null. Returns false
   * (and tells the sink to reload) when the history no longer reaches back
   * that far.
   */
  async subscribe(subscription: Subscription, after: number | null): Promise<boolean> {
    this.#subscriptions.add(subscription);
    subscription.position = after ?? this.#position;
    if (after !== null && after < this.#position) {
      const { changes, tooOld } = await this.feed.since(after);
      if (tooOld) {
        this.#tooFarBehind(subscription);
        return false;
      }
      for (const change of changes) this.#deliver(subscription, change, JSON.stringify(frame(change)));
    }
    for (const change of subscription.goLive()) this.#deliver(subscription, change, JSON.stringify(frame(change)));
    return !subscription.closed;
  }

  remove(subscription: Subscription): void {
    this.#subscriptions.delete(subscription);
  }

  /**
   * Identity says a session, key or membership ended (`session:<id>`,
   * `key:<id>`, `member:<userId>:<orgId>`): close its subscriptions now and
   * refuse it every later delivery.
   */
  ended(what: string): void {
    this.#ended.add(what);
    for (const s of this.#subscriptions) {
      if (!this.#allowed(s.principal)) {
        s.sink.close(CLOSE.accessEnded, "access ended");
        s.closed = true;
        this.#subscriptions.delete(s);
      }
    }
  }

  #allowed(principal: Principal): boolean {
    if (principal.kind === "api_key") {
      return !this.#ended.has(`key:${principal.keyId}`) && !this.#ended.has(memberKey(principal));
    }
    if (principal.kind === "user") {
      return !this.#ended.has(`session:${principal.sessionId}`) && !this.#ended.has(memberKey(principal));
    }
    return !this.#ended.has(`session:${principal.sessionId}`);
  }

  async #receive(changes: Change[]): Promise<void> {
    for (const change of changes) {
      if (change.position <= this.#position) continue;
      if (change.position > this.#position + 1) {
        // Missed on the channel: the history has it.
        const { changes: missed } = await this.feed.since(this.#position);
        for (const m of missed) if (m.position < change.position) await this.#fanOut(m);
      }
      await this.#fanOut(change);
    }
  }

  /**
   * Writes a change to every subscriber who may see it. A burst (a relay
   * of 500 changes to 1,000 subscribers is half a million writes) would
   * hold the event loop for seconds, so every SENDS_PER_STEP writes it
   * yields to the requests waiting behind it.
   */
  async #fanOut(change: Change): Promise<void> {
    if (change.position <= this.#position) return;
    this.#position = change.position;
    // Serialized once for every subscriber.
    const text = JSON.stringify(frame(change));
    for (const s of this.#subscriptions) {
      if (!s.live) s.hold(change);
      else this.#deliver(s, change, text);
    }
    this.#sinceYield += this.#subscriptions.size;
    if (this.#sinceYield >= SENDS_PER_STEP) {
      this.#sinceYield = 0;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  #deliver(s: Subscription, change: Change, text: string): void {
    if (s.closed || change.position <= s.position) return;
    s.position = change.position;
    if (!s.follows(change) || !audienceAllows(s.principal, change.audience)) return;
    if (!this.#allowed(s.principal)) {
      s.sink.close(CLOSE.accessEnded, "access ended");
      s.closed = true;
      this.#subscriptions.delete(s);
      return;
    }
    if (s.sink.bufferedAmount > this.options.maxBufferedBytes) {
      this.#tooFarBehind(s);
      return;
    }
    s.sink.send(text);
    this.delivered++;
  }

  #tooFarBehind(s: Subscription): void {
    s.sink.send(JSON.stringify({ type: "reload", reason: "too_far_behind", position: this.#position }));
    s.sink.close(CLOSE.tooFarBehind, "too far behind: reload, then subscribe again");
    s.closed = true;
    this.#subscriptions.delete(s);
  }
}

function memberKey(principal: { userId: string; organizationId: string }): string {
  return `member:${principal.userId}:${principal.organizationId}`;
}

/** A change as a subscriber receives it. */
function frame(change: Change) {
  return {
    type: "change",
    position: change.position,
    topic: change.topic,
    subject: change.subject,
    event: change.event,
    data: change.data,
  };
}
