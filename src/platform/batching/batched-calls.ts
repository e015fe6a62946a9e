/**
 * Gathers calls made close together into one call of `send` (one
 * statement, one round trip), as a database's group commit shares one
 * flush between transactions. The first call waits only for the end of the
 * event loop's current turn (setImmediate), so the calls made in that turn
 * (handlers started together by one claim, results that arrived together)
 * go with it; calls made while a send is in flight go together in the next
 * one, as soon as it returns. Under load round trips are shared; a lone
 * call waits for nothing.
 *
 * On socket-bound work (each statement or command is a system call on the
 * way out and one on the way back), fewer, larger round trips are most of
 * what a worker can gain.
 */
export class BatchedCalls<In, Out> {
  #waiting: Waiting<In, Out>[] = [];
  #busy = false;

  /**
   * `send` answers the items in order (one result per item); when it throws,
   * every call of that batch rejects with its error. `most` bounds one batch.
   */
  constructor(
    private readonly send: (items: In[]) => Promise<Out[]>,
    private readonly most = 500,
  ) {}

  call(item: In): Promise<Out> {
    return new Promise((resolve, reject) => {
      this.#waiting.push({ item, resolve, reject });
      if (!this.#busy) {
        this.#busy = true;
        setImmediate(() => void this.#sendWaiting());
      }
    });
  }

  async #sendWaiting(): Promise<void> {
    while (this.#waiting.length > 0) {
      const batch = this.#waiting.splice(0, this.most);
      try {
        const results = await this.send(batch.map((w) => w.item));
        for (const [i, w] of batch.entries()) w.resolve(results[i] as Out);
      } catch (error) {
        for (const w of batch) w.reject(error);
      }
    }
    this.#busy = false;
  }
}

interface Waiting<In, Out> {
  item: In;
  resolve(result: Out): void;
  reject(error: unknown): void;
}
