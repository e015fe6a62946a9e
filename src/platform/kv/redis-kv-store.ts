import { createHash } from "node:crypto";
import { Redis, ReplyError } from "ioredis";
import {
  type KvScript,
  type KvStore,
  KvUnavailableError,
  KvWrongTypeError,
  type ScoredMember,
  type ScriptReply,
  type SetOptions,
  type Unsubscribe,
} from "./kv-store.ts";
import { compareAndSetArgs, compareAndSetScript } from "./scripts.ts";

/**
 * The server profile's key-value store over Redis (or Valkey). Commands fail
 * fast while the connection is down (no offline queue), surfacing as
 * KvUnavailableError, so callers answer 503 instead of hanging; ioredis keeps
 * reconnecting in the background.
 *
 * Commands are not auto-pipelined. ioredis writes each command as it is
 * issued, and while the socket is busy Node queues the writes and flushes
 * them together anyway. Auto-pipelining instead holds every command until
 * the next tick: measured side by side (bench/request-path.ts and
 * bench/rate-limit.ts, alternating runs), it left the server process idle
 * 10% of the time, and served 18.8-23.2k authenticated reads/s against
 * 25.6-26.7k without it, and it made the rate-limit p99 2-3 ms instead of
 * about 1 ms.
 */
export class RedisKvStore implements KvStore {
  readonly driver = "redis";
  #subscriber: Redis | null = null;
  readonly #handlers = new Map<string, Set<(message: string) => void>>();
  readonly #shas = new WeakMap<KvScript, string>();

  private constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  /** Connects and answers one PING, or throws KvUnavailableError naming the address. */
  static async connect(url: string, prefix: string): Promise<RedisKvStore> {
    const redis = new Redis(url, {
      lazyConnect: true,
      enableAutoPipelining: false,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 5_000,
      retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
    });
    // Connection errors are reported through failing commands; without a
    // listener ioredis would print each reconnect attempt to stderr.
    redis.on("error", () => {});
    try {
      await redis.connect();
      await redis.ping();
    } catch (error) {
      redis.disconnect();
      throw new KvUnavailableError(error);
    }
    return new RedisKvStore(redis, prefix);
  }

  get(key: string) {
    return this.#call(() => this.redis.get(this.prefix + key));
  }

  mget(keys: string[]) {
    if (keys.length === 0) return Promise.resolve([]);
    return this.#call(() => this.redis.mget(keys.map((k) => this.prefix + k)));
  }

  async set(key: string, value: string, options: SetOptions = {}) {
    const args: (string | number)[] = [];
    if (options.ttlMs && options.ttlMs > 0) args.push("PX", Math.ceil(options.ttlMs));
    if (options.onlyIfAbsent) args.push("NX");
    else if (options.onlyIfPresent) args.push("XX");
    const reply = await this.#call(() =>
      (this.redis.set as (...a: unknown[]) => Promise<string | null>)(this.prefix + key, value, ...args),
    );
    return reply === "OK";
  }

  del(...keys: string[]) {
    if (keys.length === 0) return Promise.resolve(0);
    return this.#call(() => this.redis.del(...keys.map((k) => this.prefix + k)));
  }

  incrBy(key: string, by: number) {
    return this.#call(() => this.redis.incrby(this.prefix + key, by));
  }

  async expire(key: string, ttlMs: number) {
    return (await this.#call(() => this.redis.pexpire(this.prefix + key, Math.ceil(ttlMs)))) === 1;
  }

  ttl(key: string) {
    return this.#call(() => this.redis.pttl(this.prefix + key));
  }

  async compareAndSet(key: string, expected: string | null, next: string | null, options: { ttlMs?: number } = {}) {
    return (await this.runScript(compareAndSetScript, [key], compareAndSetArgs(expected, next, options.ttlMs))) === 1;
  }

  hget(key: string, field: string) {
    return this.#call(() => this.redis.hget(this.prefix + key, field));
  }

  hset(key: string, fields: Record<string, string>) {
    return this.#call(() => this.redis.hset(this.prefix + key, fields));
  }

  hgetall(key: string) {
    return this.#call(() => this.redis.hgetall(this.prefix + key));
  }

  hdel(key: string, ...fields: string[]) {
    if (fields.length === 0) return Promise.resolve(0);
    return this.#call(() => this.redis.hdel(this.prefix + key, ...fields));
  }

  hincrBy(key: string, field: string, by: number) {
    return this.#call(() => this.redis.hincrby(this.prefix + key, field, by));
  }

  zadd(key: string, members: ScoredMember[]) {
    if (members.length === 0) return Promise.resolve(0);
    const args = members.flatMap((m) => [bound(m.score), m.member]);
    return this.#call(() => this.redis.zadd(this.prefix + key, ...args));
  }

  zrem(key: string, ...members: string[]) {
    if (members.length === 0) return Promise.resolve(0);
    return this.#call(() => this.redis.zrem(this.prefix + key, ...members));
  }

  async zscore(key: string, member: string) {
    const score = await this.#call(() => this.redis.zscore(this.prefix + key, member));
    return score === null ? null : Number(score);
  }

  zcard(key: string) {
    return this.#call(() => this.redis.zcard(this.prefix + key));
  }

  async zrangeByScore(key: string, min: number, max: number, options: { offset?: number; count?: number } = {}) {
    const k = this.prefix + key;
    const reply = await this.#call(() =>
      options.offset !== undefined || options.count !== undefined
        ? this.redis.zrangebyscore(
            k,
            bound(min),
            bound(max),
            "WITHSCORES",
            "LIMIT",
            options.offset ?? 0,
            options.count ?? -1,
          )
        : this.redis.zrangebyscore(k, bound(min), bound(max), "WITHSCORES"),
    );
    return pairs(reply);
  }

  async zrange(key: string, start: number, stop: number, options: { reverse?: boolean } = {}) {
    const k = this.prefix + key;
    const reply = await this.#call(() =>
      options.reverse
        ? this.redis.zrevrange(k, start, stop, "WITHSCORES")
        : this.redis.zrange(k, String(start), String(stop), "WITHSCORES"),
    );
    return pairs(reply);
  }

  zremRangeByScore(key: string, min: number, max: number) {
    return this.#call(() => this.redis.zremrangebyscore(this.prefix + key, bound(min), bound(max)));
  }

  async *scan(prefix: string): AsyncIterable<string> {
    const pattern = `${escapeGlob(this.prefix + prefix)}*`;
    let cursor = "0";
    do {
      const [next, keys] = await this.#call(() => this.redis.scan(cursor, "MATCH", pattern, "COUNT", "500"));
      cursor = next;
      for (const k of keys) yield k.slice(this.prefix.length);
    } while (cursor !== "0");
  }

  async runScript(script: KvScript, keys: string[], args: (string | number)[]): Promise<ScriptReply> {
    let sha = this.#shas.get(script);
    if (!sha) {
      sha = createHash("sha1").update(script.lua).digest("hex");
      this.#shas.set(script, sha);
    }
    const command: (string | number)[] = [sha, keys.length];
    for (const k of keys) command.push(this.prefix + k);
    for (const a of args) command.push(a);
    try {
      return (await this.#call(() => this.redis.evalsha(...(command as [string, number])))) as ScriptReply;
    } catch (error) {
      // NOSCRIPT: the server restarted or flushed its script cache; EVAL loads it again.
      if (!(isReplyError(error) && error.message.startsWith("NOSCRIPT"))) throw error;
      command[0] = script.lua;
      return (await this.#call(() => this.redis.eval(...(command as [string, number])))) as ScriptReply;
    }
  }

  publish(channel: string, message: string) {
    return this.#call(() => this.redis.publish(this.prefix + channel, message));
  }

  async subscribe(channel: string, handler: (message: string) => void): Promise<Unsubscribe> {
    const name = this.prefix + channel;
    const subscriber = await this.#subscriberConnection();
    let handlers = this.#handlers.get(name);
    if (!handlers) {
      handlers = new Set();
      this.#handlers.set(name, handlers);
      await this.#call(() => subscriber.subscribe(name));
    }
    handlers.add(handler);
    return async () => {
      const set = this.#handlers.get(name);
      if (!set?.delete(handler) || set.size > 0) return;
      this.#handlers.delete(name);
      await subscriber.unsubscribe(name).catch(() => {});
    };
  }

  async ping() {
    const started = performance.now();
    await this.#call(() => this.redis.ping());
    return performance.now() - started;
  }

  async close() {
    this.#subscriber?.disconnect();
    this.redis.disconnect();
  }

  /** A second connection for pub/sub (a subscribed Redis connection can do nothing else). */
  async #subscriberConnection(): Promise<Redis> {
    if (this.#subscriber) return this.#subscriber;
    // The subscriber keeps its offline queue, so ioredis re-subscribes every
    // channel by itself after a reconnect.
    const subscriber = this.redis.duplicate({
      enableAutoPipelining: false,
      enableOfflineQueue: true,
      lazyConnect: true,
      maxRetriesPerRequest: null,
    });
    subscriber.on("error", () => {});
    subscriber.on("message", (channel: string, message: string) => {
      for (const h of this.#handlers.get(channel) ?? []) h(message);
    });
    this.#subscriber = subscriber;
    await subscriber.connect().catch((error) => {
      throw new KvUnavailableError(error);
    });
    return subscriber;
  }

  /**
   * Runs one command, translating failures: a ReplyError is the server
   * refusing the command (WRONGTYPE becomes KvWrongTypeError, anything else
   * passes through); every other error is the connection, so KvUnavailableError.
   */
  #call<T>(command: () => Promise<T>): Promise<T> {
    if (this.redis.status !== "ready") {
      return Promise.reject(new KvUnavailableError(new Error(`connection is ${this.redis.status}`)));
    }
    // One promise layer: this sits under every request's KV traffic.
    return command().catch(translateFailure);
  }
}

/**
 * Reply error codes (the first word of a Redis error, part of the protocol)
 * that mean the server cannot serve now rather than that the command is wrong:
 * out of memory under noeviction, a replica after failover, loading its data,
 * a busy script, a cluster reconfiguring.
 */
const UNAVAILABLE_REPLIES = new Set([
  "OOM",
  "READONLY",
  "LOADING",
  "MASTERDOWN",
  "BUSY",
  "TRYAGAIN",
  "CLUSTERDOWN",
  "NOREPLICAS",
]);

function translateFailure(error: unknown): never {
  if (isReplyError(error)) {
    const code = error.message.split(" ", 1)[0] ?? "";
    if (code === "WRONGTYPE") throw new KvWrongTypeError("(redis)");
    // The server is up but cannot serve writes or reads right now.
    if (UNAVAILABLE_REPLIES.has(code)) throw new KvUnavailableError(error);
    throw error;
  }
  throw new KvUnavailableError(error);
}

/** The server refused the command (as opposed to the connection failing). */
function isReplyError(error: unknown): error is Error {
  return error instanceof (ReplyError as new () => Error);
}

function bound(score: number): string {
  if (score === Number.POSITIVE_INFINITY) return "+inf";
  if (score === Number.NEGATIVE_INFINITY) return "-inf";
  return String(score);
}

function pairs(reply: string[]): ScoredMember[] {
  const out: ScoredMember[] = [];
  for (let i = 0; i < reply.length; i += 2) out.push({ member: reply[i] as string, score: Number(reply[i + 1]) });
  return out;
}

function escapeGlob(value: string): string {
  return value.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}
