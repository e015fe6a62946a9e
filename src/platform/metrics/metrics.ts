import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import { monitorEventLoopDelay } from "./event-loop-delay.ts";

/**
 * The Prometheus registry for one Strata process, and the metrics the
 * platform itself records. Modules add their own metrics to `registry`.
 * A registry per process (not prom-client's global) lets tests run several
 * servers side by side.
 */
export interface Metrics {
  registry: Registry;
  httpRequests: Counter<"method" | "route" | "status_code">;
  httpDuration: Histogram<"method" | "route" | "status_code">;
  dependencyCalls: Histogram<"dependency" | "driver" | "operation" | "outcome">;
  poolConnections: Gauge<"pool" | "state">;
  databaseQueries: Counter<"pool">;
  cacheRequests: Counter<"namespace" | "outcome">;
  cacheInvalidations: Counter<"namespace">;
  rateLimitDecisions: Counter<"limit_class" | "outcome">;
  computeTasks: Counter<"task" | "where" | "outcome">;
  computeDuration: Histogram<"task" | "where">;
  /** Where the pool gauge reads its figures at scrape time. */
  setPoolSource(source: () => Record<string, object | null>): void;
  /** Where the compute-pool gauge reads its figures at scrape time. */
  setComputeSource(source: () => { threads: number; inFlight: number }): void;
  /** Stops the event-loop sampler. */
  stop(): void;
}

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function createMetrics(): Metrics {
  const registry = new Registry();
  let poolSource: (() => Record<string, object | null>) | null = null;
  let computeSource: (() => { threads: number; inFlight: number }) | null = null;
  collectDefaultMetrics({ register: registry });
  const stopEventLoopSampler = monitorEventLoopDelay(registry);
  new Gauge({
    name: "strata_compute_pool",
    help: "Compute pool: worker threads alive (threads) and tasks running or waiting (in_flight).",
    labelNames: ["state"],
    registers: [registry],
    collect() {
      const stats = computeSource?.() ?? { threads: 0, inFlight: 0 };
      this.set({ state: "threads" }, stats.threads);
      this.set({ state: "in_flight" }, stats.inFlight);
    },
  });
  return {
    registry,
    httpRequests: new Counter({
      name: "strata_http_requests_total",
      help: "HTTP requests answered, by route template and status code.",
      labelNames: ["method", "route", "status_code"],
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: "strata_http_request_duration_seconds",
      help: "Time from request received to response sent, by route template.",
      labelNames: ["method", "route", "status_code"],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    dependencyCalls: new Histogram({
      name: "strata_dependency_call_duration_seconds",
      help: "Latency of key-value and blob store calls, by operation and outcome.",
      labelNames: ["dependency", "driver", "operation", "outcome"],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    poolConnections: new Gauge({
      name: "strata_db_pool_connections",
      help: "Database pool connections by state (total, idle, waiting).",
      labelNames: ["pool", "state"],
      registers: [registry],
      collect() {
        for (const [pool, stats] of Object.entries(poolSource?.() ?? {})) {
          for (const [state, value] of Object.entries(stats ?? {})) this.set({ pool, state }, Number(value));
        }
      },
    }),
    databaseQueries: new Counter({
      name: "strata_db_queries_total",
      help: "Statements sent to the database (each one round trip; BEGIN and COMMIT count), by pool.",
      labelNames: ["pool"],
      registers: [registry],
    }),
    cacheRequests: new Counter({
      name: "strata_cache_requests_total",
      help: "Cache reads by namespace and outcome (hit, miss, error).",
      labelNames: ["namespace", "outcome"],
      registers: [registry],
    }),
    cacheInvalidations: new Counter({
      name: "strata_cache_invalidations_total",
      help: "Cache keys dropped because their source changed.",
      labelNames: ["namespace"],
      registers: [registry],
    }),
    rateLimitDecisions: new Counter({
      name: "strata_rate_limit_decisions_total",
      help: "Rate-limit decisions by route class and outcome (allowed, limited, unavailable).",
      labelNames: ["limit_class", "outcome"],
      registers: [registry],
    }),
    computeTasks: new Counter({
      name: "strata_compute_tasks_total",
      help: "CPU-heavy tasks by name, where they ran (inline, pool) and outcome (ok, error, rejected when the pool was full).",
      labelNames: ["task", "where", "outcome"],
      registers: [registry],
    }),
    computeDuration: new Histogram({
      name: "strata_compute_task_duration_seconds",
      help: "Time to run a CPU-heavy task, queueing and thread hop included for pool runs.",
      labelNames: ["task", "where"],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    setPoolSource(source) {
      poolSource = source;
    },
    setComputeSource(source) {
      computeSource = source;
    },
    stop: stopEventLoopSampler,
  };
}

/**
 * Wraps every promise-returning method of `target` so its latency and
 * outcome land in `metrics.dependencyCalls`. Other members (getters, async
 * iterators) pass through untouched.
 *
 * This sits under every request's KV and blob traffic, so the wrapper of
 * each method and its two histogram children (ok, error) are made once:
 * a call costs two clock reads and one observe, not a closure, a label
 * object and a label-hash lookup.
 */
export function instrument<T extends object>(target: T, metrics: Metrics, dependency: string, driver: string): T {
  // Keyed by the method itself too, so a method replaced on the target is seen.
  const wrapped = new Map<string, { method: unknown; wrapper: unknown }>();
  return new Proxy(target, {
    get(obj, property, receiver) {
      const value = Reflect.get(obj, property, receiver);
      if (typeof value !== "function" || typeof property !== "string") return value;
      const known = wrapped.get(property);
      if (known?.method === value) return known.wrapper;
      const wrapper = timed(obj, value as (...args: unknown[]) => unknown, metrics, {
        dependency,
        driver,
        operation: property,
      });
      wrapped.set(property, { method: value, wrapper });
      return wrapper;
    },
  });
}

function timed(
  obj: object,
  method: (...args: unknown[]) => unknown,
  metrics: Metrics,
  labels: { dependency: string; driver: string; operation: string },
) {
  let ok: { observe(v: number): void } | undefined;
  let failed: { observe(v: number): void } | undefined;
  return (...args: unknown[]) => {
    const result = method.apply(obj, args);
    if (!(result instanceof Promise)) return result;
    const started = performance.now();
    return result.then(
      (v) => {
        ok ??= metrics.dependencyCalls.labels({ ...labels, outcome: "ok" });
        ok.observe((performance.now() - started) / 1000);
        return v;
      },
      (error) => {
        failed ??= metrics.dependencyCalls.labels({ ...labels, outcome: "error" });
        failed.observe((performance.now() - started) / 1000);
        throw error;
      },
    );
  };
}
