import WebSocket from "ws";

/** A message the change feed sent, parsed. */
export type FeedMessage = Record<string, any> & { type: string };

/**
 * A client of /v1/changes for tests: collects every message, waits for the
 * ones a test expects, and reports how the connection closed.
 */
export class ChangesClient {
  readonly messages: FeedMessage[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly #waiters = new Set<() => void>();

  private constructor(readonly socket: WebSocket) {
    socket.on("message", (data) => {
      this.messages.push(JSON.parse(data.toString()) as FeedMessage);
      for (const wake of this.#waiters) wake();
    });
    this.closed = new Promise((resolve) =>
      socket.on("close", (code, reason) => {
        resolve({ code, reason: reason.toString() });
        for (const wake of this.#waiters) wake();
      }),
    );
  }

  /** Opens a connection to `base` (http://host:port), authenticating with the header when a token is given. */
  static async connect(base: string, token?: string): Promise<ChangesClient> {
    const socket = new WebSocket(`${base.replace(/^http/, "ws")}/v1/changes`, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
    const client = new ChangesClient(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once("open", () => resolve());
      socket.once("error", reject);
    });
    return client;
  }

  send(message: unknown): void {
    this.socket.send(typeof message === "string" ? message : JSON.stringify(message));
  }

  /** Subscribes and resolves with the server's `subscribed` answer. */
  async subscribe(topics: string[], after?: number): Promise<FeedMessage> {
    const seen = this.messages.length;
    this.send({ type: "subscribe", topics, ...(after !== undefined ? { after } : {}) });
    return this.next((m) => m.type === "subscribed", seen);
  }

  /** The first message from index `from` on that `match` accepts, waiting up to `timeoutMs`. */
  next(match: (message: FeedMessage) => boolean, from = 0, timeoutMs = 5_000): Promise<FeedMessage> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.messages.slice(from).find(match);
        if (found) {
          this.#waiters.delete(check);
          clearTimeout(timer);
          resolve(found);
        }
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`no matching message within ${timeoutMs} ms; got ${JSON.stringify(this.messages)}`));
      }, timeoutMs);
      this.#waiters.add(check);
      check();
    });
  }

  /** Changes received so far. */
  changes(): FeedMessage[] {
    return this.messages.filter((m) => m.type === "change");
  }

  close(): void {
    this.socket.close();
  }
}
