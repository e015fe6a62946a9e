import {
  BrokenCircuitError,
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  handleWhen,
  IsolatedCircuitError,
} from "cockatiel";
import { Gauge, type Registry } from "prom-client";
import { DatabaseUnavailableError, isConnectionFailure, isStatementTimeout } from "./sqlstate.ts";

export const BREAKER_STATES = ["closed", "open", "half_open"] as const;
export type BreakerState = (typeof BREAKER_STATES)[number];

export interface BreakerOptions {
  /** Consecutive outages that open the breaker (seed 004: 3). */
  failures: number;
  /** How long it stays open before one probe may try (seed 004: 30 s). */
  halfOpenAfterMs: number;
}

/** What counts as the database failing: it cannot be reached, or it did not answer within the statement timeout. */
function isOutage(error: unknown): boolean {
  return error instanceof DatabaseUnavailableError || isConnectionFailure(error) || isStatementTimeout(error);
}

/**
 * Seed 004's circuit breaker around the database (cockatiel): after
 * `failures` consecutive outages it opens, and every statement fails at once
 * with DatabaseUnavailableError (503, with Retry-After the time left until
 * the probe) instead of waiting on connection timeouts; after
 * `halfOpenAfterMs` one statement goes through as the probe, and the
 * statements that arrive meanwhile wait for its outcome without reaching
 * the database (cockatiel's half-open): its success closes the breaker and
 * lets them run, its failure opens it again and refuses them. A bad query (a constraint, a syntax error) is not an outage and
 * neither opens nor probes anything.
 */
export class DatabaseBreaker {
  readonly #policy;
  #openedAt: number | null = null;
  readonly #listeners = new Set<(state: BreakerState) => void>();

  constructor(readonly options: BreakerOptions) {
    this.#policy = circuitBreaker(handleWhen(isOutage), {
      halfOpenAfter: options.halfOpenAfterMs,
      breaker: new ConsecutiveBreaker(options.failures),
    });
    this.#policy.onBreak(() => {
      this.#openedAt = Date.now();
    });
    this.#policy.onReset(() => {
      this.#openedAt = null;
    });
    this.#policy.onStateChange(() => {
      for (const listener of this.#listeners) listener(this.state);
    });
  }

  get state(): BreakerState {
    switch (this.#policy.state) {
      case CircuitState.Closed:
        return "closed";
      case CircuitState.HalfOpen:
        return "half_open";
      default:
        return "open";
    }
  }

  /** When the breaker last opened (null while closed). */
  get openedAt(): Date | null {
    return this.#openedAt === null ? null : new Date(this.#openedAt);
  }

  /** Seconds until the probe may run: what a refused request is told to wait (at least 1). */
  retryAfterSeconds(): number {
    if (this.#openedAt === null) return 1;
    return Math.max(1, Math.ceil((this.#openedAt + this.options.halfOpenAfterMs - Date.now()) / 1000));
  }

  onStateChange(listener: (state: BreakerState) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Runs `fn` through the breaker; refused at once while it is open. */
  async execute<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await this.#policy.execute(fn);
    } catch (error) {
      if (error instanceof BrokenCircuitError || error instanceof IsolatedCircuitError) {
        throw new DatabaseUnavailableError(error, this.retryAfterSeconds());
      }
      throw error;
    }
  }
}

/** strata_db_breaker_state: 1 for the state the database's circuit breaker is in, 0 for the others. */
export function registerBreakerGauge(registry: Registry, breaker: DatabaseBreaker): void {
  new Gauge({
    name: "strata_db_breaker_state",
    help: "The database circuit breaker's state: 1 for the current one (closed, open, half_open).",
    labelNames: ["state"],
    registers: [registry],
    collect() {
      for (const state of BREAKER_STATES) this.set({ state }, breaker.state === state ? 1 : 0);
    },
  });
}
