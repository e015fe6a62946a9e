import { EventEmitter } from "node:events";
import { type Clock, systemClock } from "../clock.ts";
import {
  type KvScript,
  type KvStore,
  KvWrongTypeError,
  type LocalScriptApi,
  type ScoredMember,
  type ScriptReply,
  type SetOptions,
  type Unsubscribe,
} from "./kv-store.ts";
import { compareAndSetArgs, compareAndSetScript } from "./scripts.ts";
import { SortedSet } from "./sorted-set.ts";

type Value =
  | { kind: "string"; value: string }
  | { kind: "hash"; value: Map<string, string> }
  | { kind: "zset"; value: SortedSet };
type Entry = Value & { expiresAt: number | null };

/** How many keys one sweep tick examines for expiry, and how often it runs. */
const SWEEP_BATCH = 500;
const SWEEP_INTERVAL_MS = 250;

/**
 * The embedded profile's key-value store. JavaScript runs one thing at a time,
 * so every method body and every local script is atomic by construction; the
 * methods are async only to share the interface with Redis. Expired keys are
 * invisible at once (checked on access) and reclaimed by a background sweep
 * that walks the key space a batch at a time. Nothing is persisted, like the
 * Redis servers Strata targets: what lives here may be rebuilt or expire.
 */
export class MemoryKvStore implements KvStore {
  readonly driver = "memory";
  readonly #entries = new Map<string, Entry>();
  readonly #bus = new EventEmitter();
  readonly #sweeper: NodeJS.Timeout;
  #sweepCursor: Iterator<string> | null = null;
  readonly #api: LocalScriptApi;

  constructor(
    private readonly prefix = "",
    private readonly clock: Clock = systemClock,
  ) {
    this.#bus.setMaxListeners(0);
    this.#sweeper = setInterval(() => this.#sweep(), SWEEP_INTERVAL_MS);
    this.#sweeper.unref();
    this.#api = this.#localApi();
  }

  async get(key: string) {
    return this.#string(this.prefix + key);
  }

  async mget(keys: string[]) {
    return keys.map((k) => this.#string(this.prefix + k));
  }

  async set(key: string, value: string, options: SetOptions = {}) {
    const k = this.prefix + key;
    const exists = this.#live(k) !== undefined;
    if ((options.onlyIfAbsent && exists) || (options.onlyIfPresent && !exists)) return false;
    this.#put(k, { kind: "string", value }, options.ttlMs);
    return true;
  }

  async del(...keys: string[]) {
    let removed = 0;
    for (const key of keys) if (this.#delete(this.prefix + key)) removed++;
    return removed;
  }

  async incrBy(key: string, by: number) {
    const k = this.prefix + key;
    const entry = this.#typed(k, "string");
    const current = entry ? Number(entry.value) : 0;
    if (!Number.isSafeInteger(current)) throw new Error("ERR value is not an integer or out of range");
    const next = current + by;
    if (entry) entry.value = String(next);
    else this.#put(k, { kind: "string", value: String(next) });
    return next;
  }

  async expire(key: string, ttlMs: number) {
    return this.#pexpire(this.prefix + key, ttlMs);
  }

  async ttl(key: string) {
    return this.#pttl(this.prefix + key);
  }

  async compareAndSet(key: string, expected: string | null, next: string | null, options: { ttlMs?: number } = {}) {
    return (await this.runScript(compareAndSetScript, [key], compareAndSetArgs(expected, next, options.ttlMs))) === 1;
  }

  async hget(key: string, field: string) {
    return this.#typed(this.prefix + key, "hash")?.value.get(field) ?? null;
  }

  async hset(key: string, fields: Record<string, string>) {
    return this.#hset(this.prefix + key, fields);
  }

  async hgetall(key: string) {
    return this.#hgetall(this.prefix + key);
  }

  async hdel(key: string, ...fields: string[]) {
    return this.#hdel(this.prefix + key, fields);
  }

  #hdel(k: string, fields: string[]): number {
    const entry = this.#typed(k, "hash");
    if (!entry) return 0;
    let removed = 0;
    for (const f of fields) if (entry.value.delete(f)) removed++;
    if (entry.value.size === 0) this.#entries.delete(k);
    return removed;
  }

  async hincrBy(key: string, field: string, by: number) {
    const k = this.prefix + key;
    const entry = this.#typed(k, "hash") ?? this.#put(k, { kind: "hash", value: new Map() });
    const map = entry.value as Map<string, string>;
    const current = Number(map.get(field) ?? "0");
    if (!Number.isSafeInteger(current)) throw new Error("ERR hash value is not an integer");
    map.set(field, String(current + by));
    return current + by;
  }

  async zadd(key: string, members: ScoredMember[]) {
    return this.#zadd(this.prefix + key, members);
  }

  async zrem(key: string, ...members: string[]) {
    return this.#zrem(this.prefix + key, members);
  }

  async zscore(key: string, member: string) {
    return this.#typed(this.prefix + key, "zset")?.value.score(member) ?? null;
  }

  async zcard(key: string) {
    return this.#typed(this.prefix + key, "zset")?.value.size ?? 0;
  }

  async zrangeByScore(key: string, min: number, max: number, options: { offset?: number; count?: number } = {}) {
    const entry = this.#typed(this.prefix + key, "zset");
    return entry ? entry.value.rangeByScore(min, max, options.offset, options.count) : [];
  }

  async zrange(key: string, start: number, stop: number, options: { reverse?: boolean } = {}) {
    return this.#zrange(this.prefix + key, start, stop, options.reverse ?? false);
  }

  async zremRangeByScore(key: string, min: number, max: number) {
    return this.#zremRangeByScore(this.prefix + key, min, max);
  }

  async *scan(prefix: string): AsyncIterable<string> {
    const full = this.prefix + prefix;
    // Snapshot first: the caller may delete keys while iterating.
    const keys = [...this.#entries.keys()].filter((k) => k.startsWith(full) && this.#live(k) !== undefined);
    for (const k of keys) yield k.slice(this.prefix.length);
  }

  async runScript(script: KvScript, keys: string[], args: (string | number)[]): Promise<ScriptReply> {
    const reply = script.local(
      this.#api,
      keys.map((k) => this.prefix + k),
      args.map(String),
      this.clock.now(),
    );
    return normalizeReply(reply);
  }

  async publish(channel: string, message: string) {
    const name = this.prefix + channel;
    const receivers = this.#bus.listenerCount(name);
    // Deliver asynchronously, as a network round trip would.
    if (receivers > 0) setImmediate(() => this.#bus.emit(name, message));
    return receivers;
  }

  async subscribe(channel: string, handler: (message: string) => void): Promise<Unsubscribe> {
    const name = this.prefix + channel;
    this.#bus.on(name, handler);
    return async () => {
      this.#bus.off(name, handler);
    };
  }

  async ping() {
    return 0;
  }

  async close() {
    clearInterval(this.#sweeper);
    this.#bus.removeAllListeners();
  }

  // --- internals: synchronous, on prefixed keys ---

  #live(key: string): Entry | undefined {
    const entry = this.#entries.get(key);
    if (entry && entry.expiresAt !== null && entry.expiresAt <= this.clock.now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  #typed<K extends Value["kind"]>(key: string, kind: K): (Extract<Value, { kind: K }> & Entry) | undefined {
    const entry = this.#live(key);
    if (!entry) return undefined;
    if (entry.kind !== kind) throw new KvWrongTypeError(key.slice(this.prefix.length));
    return entry as Extract<Value, { kind: K }> & Entry;
  }

  #put(key: string, value: Value, ttlMs?: number): Entry {
    const entry = { ...value, expiresAt: ttlMs && ttlMs > 0 ? this.clock.now() + ttlMs : null } as Entry;
    this.#entries.set(key, entry);
    return entry;
  }

  #delete(key: string): boolean {
    return this.#live(key) !== undefined && this.#entries.delete(key);
  }

  #string(key: string): string | null {
    return this.#typed(key, "string")?.value ?? null;
  }

  #pttl(key: string): number {
    const entry = this.#live(key);
    if (!entry) return -2;
    return entry.expiresAt === null ? -1 : entry.expiresAt - this.clock.now();
  }

  #pexpire(key: string, ttlMs: number): boolean {
    const entry = this.#live(key);
    if (!entry) return false;
    if (ttlMs <= 0) this.#entries.delete(key);
    else entry.expiresAt = this.clock.now() + ttlMs;
    return true;
  }

  #hset(key: string, fields: Record<string, string>): number {
    const entry = this.#typed(key, "hash") ?? this.#put(key, { kind: "hash", value: new Map() });
    const map = entry.value as Map<string, string>;
    let added = 0;
    for (const [f, v] of Object.entries(fields)) {
      if (!map.has(f)) added++;
      map.set(f, v);
    }
    return added;
  }

  #hgetall(key: string): Record<string, string> {
    const entry = this.#typed(key, "hash");
    return entry ? Object.fromEntries(entry.value) : {};
  }

  #zadd(key: string, members: ScoredMember[]): number {
    const entry = this.#typed(key, "zset") ?? this.#put(key, { kind: "zset", value: new SortedSet() });
    const set = entry.value as SortedSet;
    let added = 0;
    for (const { member, score } of members) if (set.add(member, score)) added++;
    return added;
  }

  #zrem(key: string, members: string[]): number {
    const entry = this.#typed(key, "zset");
    if (!entry) return 0;
    let removed = 0;
    for (const m of members) if (entry.value.remove(m)) removed++;
    if (entry.value.size === 0) this.#entries.delete(key);
    return removed;
  }

  #zrange(key: string, start: number, stop: number, reverse: boolean): ScoredMember[] {
    const entry = this.#typed(key, "zset");
    return entry ? entry.value.rangeByRank(start, stop, reverse) : [];
  }

  #zremRangeByScore(key: string, min: number, max: number): number {
    const entry = this.#typed(key, "zset");
    if (!entry) return 0;
    const removed = entry.value.removeRangeByScore(min, max);
    if (entry.value.size === 0) this.#entries.delete(key);
    return removed;
  }

  #localApi(): LocalScriptApi {
    return {
      get: (k) => this.#string(k),
      set: (k, v, ttlMs) => void this.#put(k, { kind: "string", value: v }, ttlMs),
      del: (k) => (this.#delete(k) ? 1 : 0),
      pttl: (k) => this.#pttl(k),
      pexpire: (k, ttlMs) => this.#pexpire(k, ttlMs),
      hget: (k, f) => this.#typed(k, "hash")?.value.get(f) ?? null,
      hset: (k, fields) => this.#hset(k, fields),
      hgetall: (k) => this.#hgetall(k),
      hdel: (k, fields) => this.#hdel(k, fields),
      zadd: (k, members) => this.#zadd(k, members),
      zcard: (k) => this.#typed(k, "zset")?.value.size ?? 0,
      zrange: (k, start, stop) => this.#zrange(k, start, stop, false),
      zrem: (k, members) => this.#zrem(k, members),
      zremRangeByScore: (k, min, max) => this.#zremRangeByScore(k, min, max),
    };
  }

  #sweep() {
    if (!this.#sweepCursor) this.#sweepCursor = this.#entries.keys();
    for (let i = 0; i < SWEEP_BATCH; i++) {
      const next = this.#sweepCursor.next();
      if (next.done) {
        this.#sweepCursor = null;
        return;
      }
      this.#live(next.value);
    }
  }
}

/** Mirrors how Redis converts a Lua reply: numbers truncate to integers, true is 1, false is nil. */
function normalizeReply(reply: ScriptReply | boolean | undefined): ScriptReply {
  if (reply === undefined || reply === false || reply === null) return null;
  if (reply === true) return 1;
  if (typeof reply === "number") return Math.trunc(reply);
  if (Array.isArray(reply)) return reply.map((r) => normalizeReply(r));
  return reply;
}
