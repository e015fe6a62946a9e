import type { WebSocket } from "ws";
import type { ChangeHub, Interest } from "../platform/changes/change-hub.ts";
import { Subscription } from "../platform/changes/change-hub.ts";
import { AppError } from "../platform/errors/app-error.ts";
import type { Principal } from "../platform/identity/principal.ts";
import type { Platform } from "../runtime/platform.ts";

/** Close codes for what a client did wrong (RFC 6455's, and the application's 4000-4999). */
export const CLIENT_CLOSE = {
  /** Not JSON, or not valid UTF-8. */
  malformed: 1007,
  /** A message of no known type, or with fields out of shape. */
  invalid: 1008,
  /** A frame over the limit (ws closes with this itself). */
  tooBig: 1009,
  /** The token was missing, invalid or expired. */
  unauthenticated: 4401,
  /** No token within the grace period. */
  authTimeout: 4408,
} as const;

const AUTH_GRACE_MS = 10_000;
const MAX_TOPICS = 50;
/** `knowledge`, or `chat:<uuid>`: a topic, whole or one subject of it. */
const TOPIC = /^([a-z_]{1,40})(?::([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}))?$/;

type ClientMessage = { type: "auth"; token: string } | { type: "subscribe"; topics: string[]; after: number | null };

/** Parses one client frame, or says why it cannot. */
function parse(text: string): ClientMessage | { problem: string; code: number } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { problem: "not JSON", code: CLIENT_CLOSE.malformed };
  }
  const message = value as Record<string, unknown> | null;
  if (typeof message !== "object" || message === null || Array.isArray(message)) {
    return { problem: "not a JSON object", code: CLIENT_CLOSE.invalid };
  }
  if (message.type === "auth" && typeof message.token === "string" && message.token.length <= 4096) {
    return { type: "auth", token: message.token };
  }
  if (message.type === "subscribe") {
    const { topics, after } = message;
    if (!Array.isArray(topics) || topics.length > MAX_TOPICS || !topics.every((t) => typeof t === "string")) {
      return { problem: `topics must be a list of at most ${MAX_TOPICS} strings`, code: CLIENT_CLOSE.invalid };
    }
    if (after !== undefined && after !== null && !(Number.isSafeInteger(after) && (after as number) >= 0)) {
      return { problem: "after must be a position (a whole number, 0 or more)", code: CLIENT_CLOSE.invalid };
    }
    return { type: "subscribe", topics: topics as string[], after: (after as number | null | undefined) ?? null };
  }
  return { problem: "unknown message type", code: CLIENT_CLOSE.invalid };
}

/**
 * One client's connection to `/v1/changes`: authenticates it (the upgrade
 * request's bearer token, or an `auth` message first), checks each topic it
 * asks for against the module that owns it, and hands the hub a
 * subscription. Anything malformed closes the connection with a clear code
 * and reason; the server serves everyone else as before.
 */
export class ChangeConnection {
  #principal: Principal | null;
  #subscription: Subscription | null = null;
  /** Messages are handled one after another: a subscribe sent right behind its auth waits for it. */
  #handling: Promise<void> = Promise.resolve();
  readonly #authTimer: NodeJS.Timeout | null;

  constructor(
    private readonly platform: Platform,
    private readonly hub: ChangeHub,
    private readonly socket: WebSocket,
    principal: Principal | null,
  ) {
    this.#principal = principal;
    this.#authTimer = principal
      ? null
      : setTimeout(() => this.#close(CLIENT_CLOSE.authTimeout, "send an auth message first"), AUTH_GRACE_MS);
    socket.on("message", (data, isBinary) => {
      if (isBinary) return this.#close(CLIENT_CLOSE.invalid, "text frames only");
      const text = data.toString();
      this.#handling = this.#handling
        .then(() => this.#receive(text))
        .catch((error) => {
          this.platform.logger.warn({ err: error }, "change feed message failed");
          this.#close(1011, "server error");
        });
    });
    socket.on("close", () => this.#end());
  }

  async #receive(text: string): Promise<void> {
    const message = parse(text);
    if ("problem" in message) return this.#close(message.code, message.problem);
    if (message.type === "auth") {
      if (this.#principal) return this.#close(CLIENT_CLOSE.invalid, "already authenticated");
      try {
        this.#principal = await this.platform.identity.authenticate(`Bearer ${message.token}`);
      } catch (error) {
        return this.#close(CLIENT_CLOSE.unauthenticated, error instanceof AppError ? error.code : "token_invalid");
      }
      if (!this.#principal) return this.#close(CLIENT_CLOSE.unauthenticated, "token_invalid");
      if (this.#authTimer) clearTimeout(this.#authTimer);
      return this.#send({ type: "authenticated" });
    }
    const principal = this.#principal;
    if (!principal) return this.#close(CLIENT_CLOSE.unauthenticated, "send an auth message first");
    const accepted: Interest[] = [];
    const refused: { topic: string; error: string }[] = [];
    for (const requested of new Set(message.topics)) {
      const match = TOPIC.exec(requested);
      const topic = match ? this.platform.changes.topic(match[1] as string) : undefined;
      if (!match || !topic) {
        refused.push({ topic: requested, error: "unknown_topic" });
        continue;
      }
      const subject = match[2] ?? null;
      if (await topic.authorize(principal, subject)) accepted.push({ topic: topic.name, subject });
      else refused.push({ topic: requested, error: topic.notFound });
    }
    // A subscribe replaces the connection's previous one.
    if (this.#subscription) this.hub.remove(this.#subscription);
    if (this.socket.readyState !== this.socket.OPEN) return;
    const subscription = new Subscription(principal, accepted, this.socket);
    this.#subscription = subscription;
    this.#send({
      type: "subscribed",
      topics: accepted.map((i) => (i.subject ? `${i.topic}:${i.subject}` : i.topic)),
      refused,
      position: message.after ?? this.hub.position,
    });
    await this.hub.subscribe(subscription, message.after);
  }

  #send(message: Record<string, unknown>): void {
    if (this.socket.readyState === this.socket.OPEN) this.socket.send(JSON.stringify(message));
  }

  #close(code: number, reason: string): void {
    this.socket.close(code, reason.slice(0, 120));
    this.#end();
  }

  #end(): void {
    if (this.#authTimer) clearTimeout(this.#authTimer);
    if (this.#subscription) this.hub.remove(this.#subscription);
    this.#subscription = null;
  }
}
