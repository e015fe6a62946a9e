/**
 * The key-value layer: what the seeds use Redis for (caches, counters, rate
 * limit buckets, locks, heartbeats, presence, pub/sub). Two implementations
 * pass one contract suite: MemoryKvStore (embedded) and RedisKvStore.
 *
 * Glossary
 * - key: a string; every implementation prepends its configured prefix, so
 *   several Strata deployments can share one Redis. Callers never see it.
 * - ttlMs: time to live in milliseconds; keys without one live until deleted.
 * - script: a KvScript, run atomically against the store (Lua on Redis, a
 *   synchronous function on the in-process store).
 */

export interface SetOptions {
  ttlMs?: number;
  /** Only set when the key does not exist (SET NX). */
  onlyIfAbsent?: boolean;
  /** Only set when the key exists (SET XX). */
  onlyIfPresent?: boolean;
}

export interface ScoredMember {
  member: string;
  score: number;
}

/** A score bound: a number, or -Infinity / Infinity for an open end. */
export type ScoreBound = number;

export type ScriptReply = string | number | null | ScriptReply[];

/** The synchronous operations a local script may use; keys here are already prefixed. */
export interface LocalScriptApi {
  get(key: string): string | null;
  set(key: string, value: string, ttlMs?: number): void;
  del(key: string): number;
  pttl(key: string): number;
  pexpire(key: string, ttlMs: number): boolean;
  hget(key: string, field: string): string | null;
  hset(key: string, fields: Record<string, string>): number;
  hgetall(key: string): Record<string, string>;
  hdel(key: string, fields: string[]): number;
  zadd(key: string, members: ScoredMember[]): number;
  zcard(key: string): number;
  /** Members by rank, lowest score first (0-based, inclusive, negative counts from the end). */
  zrange(key: string, start: number, stop: number): ScoredMember[];
  zrem(key: string, members: string[]): number;
  zremRangeByScore(key: string, min: ScoreBound, max: ScoreBound): number;
}

/**
 * An atomic operation over a handful of keys. The Lua and the local function
 * must do the same thing; the contract suite runs every platform script on
 * both stores. `nowMs` is the store's clock (Redis TIME, or the local clock),
 * so callers on many machines agree on time without trusting their own.
 */
export interface KvScript {
  name: string;
  lua: string;
  local(api: LocalScriptApi, keys: string[], args: string[], nowMs: number): ScriptReply | boolean | undefined;
}

export type Unsubscribe = () => Promise<void>;

export interface KvStore {
  readonly driver: "memory" | "redis";

  get(key: string): Promise<string | null>;
  mget(keys: string[]): Promise<(string | null)[]>;
  /** Returns false when onlyIfAbsent/onlyIfPresent prevented the write. */
  set(key: string, value: string, options?: SetOptions): Promise<boolean>;
  del(...keys: string[]): Promise<number>;
  incrBy(key: string, by: number): Promise<number>;
  /** Sets a key's time to live; false when the key does not exist. */
  expire(key: string, ttlMs: number): Promise<boolean>;
  /** Milliseconds left; -1 when the key has no expiry; -2 when it does not exist. */
  ttl(key: string): Promise<number>;
  /** Atomically replaces `expected` (null: absent) with `next` (null: delete). */
  compareAndSet(
    key: string,
    expected: string | null,
    next: string | null,
    options?: { ttlMs?: number },
  ): Promise<boolean>;

  hget(key: string, field: string): Promise<string | null>;
  hset(key: string, fields: Record<string, string>): Promise<number>;
  hgetall(key: string): Promise<Record<string, string>>;
  hdel(key: string, ...fields: string[]): Promise<number>;
  hincrBy(key: string, field: string, by: number): Promise<number>;

  zadd(key: string, members: ScoredMember[]): Promise<number>;
  zrem(key: string, ...members: string[]): Promise<number>;
  zscore(key: string, member: string): Promise<number | null>;
  zcard(key: string): Promise<number>;
  /** Members with min <= score <= max, ascending by score then member. */
  zrangeByScore(
    key: string,
    min: ScoreBound,
    max: ScoreBound,
    options?: { offset?: number; count?: number },
  ): Promise<ScoredMember[]>;
  /** Members by rank (0-based, inclusive, negative counts from the end); `reverse` ranks from the highest score. */
  zrange(key: string, start: number, stop: number, options?: { reverse?: boolean }): Promise<ScoredMember[]>;
  zremRangeByScore(key: string, min: ScoreBound, max: ScoreBound): Promise<number>;

  /** Every key starting with `prefix` (unprefixed), in no particular order. */
  scan(prefix: string): AsyncIterable<string>;

  runScript(script: KvScript, keys: string[], args: (string | number)[]): Promise<ScriptReply>;

  /** Delivers to every current subscriber of the channel; resolves to how many received it. */
  publish(channel: string, message: string): Promise<number>;
  subscribe(channel: string, handler: (message: string) => void): Promise<Unsubscribe>;

  /** Round trip; resolves to latency in milliseconds. */
  ping(): Promise<number>;
  close(): Promise<void>;
}

/** The store could not be reached: rendered as 503 with Retry-After. */
export class KvUnavailableError extends Error {
  constructor(cause?: unknown) {
    super("the key-value store is unavailable", { cause });
    this.name = "KvUnavailableError";
  }
}

/** An operation met a key holding another kind of value (Redis' WRONGTYPE). */
export class KvWrongTypeError extends Error {
  constructor(key: string) {
    super(`key ${key} holds a value of another type`);
    this.name = "KvWrongTypeError";
  }
}
