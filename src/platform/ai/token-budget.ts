import { randomUUID } from "node:crypto";
import type { KvStore } from "../kv/kv-store.ts";
import { sleep as realSleep, type Sleep } from "../sleep.ts";
import { budgetAdjustScript, budgetReserveScript } from "./budget-scripts.ts";

/**
 * The AI provider's rate limits, kept by every Strata process together:
 * tokens and requests per minute for each provider and model, in the
 * key-value store (Redis on the server profile, the in-process store
 * embedded), so API processes and workers on many machines draw on one
 * budget. The buckets and how they decide are in budget-scripts.ts.
 *
 * Glossary
 * - provider: the host (and port) of AI_BASE_URL: one provider account's
 *   limits are shared by every deployment that names it, and only those.
 * - reservation: what `acquire` charged, the estimate, before the call;
 *   `settle` corrects it by what the provider reports it used.
 */

/** One model's limits; null means that kind is not limited. */
export interface ModelLimits {
  tokensPerMinute: number | null;
  requestsPerMinute: number | null;
}

/** The defaults, and per model the limits that replace them (AI_MODEL_LIMITS). */
export interface BudgetLimits extends ModelLimits {
  models: Readonly<Record<string, ModelLimits>>;
}

export const NO_LIMITS: BudgetLimits = { tokensPerMinute: null, requestsPerMinute: null, models: {} };

/** What `acquire` charged, to hand back to `settle` (or `release`) once. */
export interface BudgetReservation {
  readonly model: string;
  /** Tokens charged: the estimate. */
  readonly tokens: number;
  /** How long `acquire` slept for budget, in ms (0 when it was there at once). */
  readonly waitedMs: number;
}

/** How long past its wake a waiting request keeps its place in line (see budget-scripts.ts). */
export const WAITER_GRACE_MS = 2_000;

const MINUTE_MS = 60_000;

interface Charge {
  key: string;
  msPerToken: number;
  msPerRequest: number;
  done: boolean;
}

/** What only this module sees of a reservation; none for a model without limits. */
const charges = new WeakMap<BudgetReservation, Charge>();

export function budgetKey(provider: string, model: string): string {
  return `ai_budget:${provider}:${model}`;
}

/** The provider part of the budget's keys: AI_BASE_URL's host, with its port when it names one. */
export function providerOf(baseUrl: string): string {
  return new URL(baseUrl).host;
}

export class AiBudget {
  constructor(
    private readonly kv: KvStore,
    readonly provider: string,
    private readonly limits: BudgetLimits,
    /** Real timers unless a test passes its own (a simulated clock's). */
    private readonly sleep: Sleep = realSleep,
  ) {}

  /** The model's own limits when AI_MODEL_LIMITS names it, else the defaults. */
  limitsFor(model: string): ModelLimits {
    if (Object.hasOwn(this.limits.models, model)) return this.limits.models[model] as ModelLimits;
    return { tokensPerMinute: this.limits.tokensPerMinute, requestsPerMinute: this.limits.requestsPerMinute };
  }

  /**
   * Waits until the model's budget has a request and `estimatedTokens` to
   * spare, then charges both. The wait is a sleep for as long as the store
   * says (until the budget has refilled enough, or the request ahead in line
   * has gone), never a poll; while it waits it keeps its place in line, so
   * requests that came later cannot keep taking the budget from it. When
   * `signal` aborts, the wait stops at once and rejects with the signal's
   * reason; nothing was charged. With no limits for the model it resolves at
   * once, without a round trip.
   *
   * A request estimated above the whole per-minute token limit cannot ever
   * fit: it waits for a full bucket, goes alone, and is charged in full, so
   * later requests wait until that debt has refilled. Throws
   * KvUnavailableError when the store cannot be reached (no call goes out
   * unbudgeted).
   */
  async acquire(request: { model: string; estimatedTokens: number; signal?: AbortSignal }): Promise<BudgetReservation> {
    const { model, signal } = request;
    const tokens = Math.ceil(request.estimatedTokens);
    if (!Number.isFinite(tokens) || tokens < 0) {
      throw new RangeError(`estimatedTokens must be a number of tokens, not ${request.estimatedTokens}`);
    }
    signal?.throwIfAborted();
    const { tokensPerMinute, requestsPerMinute } = this.limitsFor(model);
    if (tokensPerMinute === null && requestsPerMinute === null) return { model, tokens, waitedMs: 0 };

    const key = budgetKey(this.provider, model);
    const msPerToken = tokensPerMinute === null ? 0 : MINUTE_MS / tokensPerMinute;
    const msPerRequest = requestsPerMinute === null ? 0 : MINUTE_MS / requestsPerMinute;
    const id = randomUUID();
    // When the store first refused this request: its place in the waiting line (budget-scripts.ts).
    let since = "";
    let waitedMs = 0;
    for (;;) {
      const [granted, waitMs, storeNow] = (await this.kv.runScript(
        budgetReserveScript,
        [key],
        [tokensPerMinute ?? 0, msPerToken, requestsPerMinute ?? 0, msPerRequest, tokens, id, WAITER_GRACE_MS, since],
      )) as [number, number, number];
      if (granted === 1) {
        const reservation: BudgetReservation = { model, tokens, waitedMs };
        charges.set(reservation, { key, msPerToken, msPerRequest, done: false });
        return reservation;
      }
      since ||= String(storeNow);
      try {
        await this.sleep(waitMs, signal);
      } catch (error) {
        // Leave the line, so nobody makes room for a request that is gone; if
        // the store cannot be told, the place lapses after its grace anyway.
        await this.kv.runScript(budgetAdjustScript, [key], [0, 0, 0, 0, id]).catch(() => {});
        throw error;
      }
      waitedMs += waitMs;
    }
  }

  /**
   * Corrects the reservation by what the call really used, once known: the
   * difference from the estimate is refunded (never past a full bucket) or
   * charged on top (later requests then wait for it). The request itself
   * stays charged: the provider counted it. A call that failed keeps its
   * whole charge; there is no need to settle it.
   */
  async settle(reservation: BudgetReservation, actualTokens: number): Promise<void> {
    const charge = this.#take(reservation);
    if (!charge || charge.msPerToken === 0) return;
    const delta = Math.ceil(actualTokens) - reservation.tokens;
    if (!Number.isFinite(delta)) throw new RangeError(`actualTokens must be a number of tokens, not ${actualTokens}`);
    if (delta === 0) return;
    await this.kv.runScript(budgetAdjustScript, [charge.key], [charge.msPerToken, delta, 0, 0, ""]);
  }

  /** Hands the whole reservation back, tokens and request, for a call that was never sent. */
  async release(reservation: BudgetReservation): Promise<void> {
    const charge = this.#take(reservation);
    if (!charge) return;
    await this.kv.runScript(
      budgetAdjustScript,
      [charge.key],
      [charge.msPerToken, -reservation.tokens, charge.msPerRequest, -1, ""],
    );
  }

  #take(reservation: BudgetReservation): Charge | undefined {
    const charge = charges.get(reservation);
    if (charge?.done) throw new Error("this budget reservation was already settled or released");
    if (charge) charge.done = true;
    return charge;
  }
}
