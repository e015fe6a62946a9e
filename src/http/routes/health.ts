import { Type } from "typebox";
import type { Platform } from "../../runtime/platform.ts";
import type { App } from "../app.ts";
import {
  type BreakerStatusView,
  type DependencyStateView,
  Liveness,
  type LivenessView,
  type LocalCopyStatusView,
  Readiness,
  type VectorFeatureView,
} from "../health-schemas.ts";
import { PUBLIC } from "../openapi.ts";

const CHECK_TIMEOUT_MS = 2_000;

/**
 * /health answers while the process runs (liveness: restart me if not).
 * /ready answers 200 only while every dependency responds (readiness: send me
 * traffic), with each dependency's state and latency either way.
 * /metrics is the Prometheus scrape endpoint.
 */
export function registerHealthRoutes(app: App, platform: Platform) {
  const started = Date.now();

  app.get(
    "/health",
    {
      schema: {
        tags: ["operations"],
        operationId: "getHealth",
        summary: "Liveness",
        security: PUBLIC,
        response: {
          200: Liveness,
        },
      },
    },
    async (): Promise<LivenessView> => ({ status: "ok", uptimeSeconds: Math.round((Date.now() - started) / 1000) }),
  );

  app.get(
    "/ready",
    {
      schema: {
        tags: ["operations"],
        operationId: "getReadiness",
        summary: "Readiness, with each dependency's state and latency",
        security: PUBLIC,
        response: {
          200: Readiness("ready", "Every dependency answers."),
          503: {
            ...Readiness("unavailable", "A dependency does not answer; see which (sent with Retry-After)."),
            headers: { "retry-after": Type.Integer({ description: "Seconds before asking again." }) },
          },
        },
      },
    },
    async (_request, reply) => {
      const [database, kv, blobs, vectors] = await Promise.all([
        check(platform.database.driver, () => platform.database.ping()),
        check(platform.kv.driver, () => platform.kv.ping()),
        check(platform.blobs.driver, () => platform.blobs.ping()),
        vectorFeature(platform),
      ]);
      const breaker = platform.database.breaker;
      const dependencies = {
        database: { ...database, ...(breaker ? { breaker: breakerStatus(breaker) } : {}) },
        kv,
        blobs,
      };
      const ready = Object.values(dependencies).every((d) => d.status === "up");
      const features = { vectors, localCopies: platform.localCopies.list().map(copyStatus) };
      if (!ready) {
        const wait = breaker?.state === "open" ? breaker.retryAfterSeconds() : 5;
        reply.status(503).header("retry-after", String(wait));
        return { status: "unavailable" as const, profile: platform.config.profile, dependencies, features };
      }
      return { status: "ready" as const, profile: platform.config.profile, dependencies, features };
    },
  );

  app.get(
    "/metrics",
    {
      schema: {
        tags: ["operations"],
        operationId: "getMetrics",
        summary: "Prometheus metrics",
        security: PUBLIC,
        response: {
          200: {
            description: "Metrics in the Prometheus text exposition format.",
            content: { "text/plain": { schema: Type.String() } },
          },
        },
      },
    },
    async (_request, reply) => {
      reply.header("content-type", platform.metrics.registry.contentType);
      return platform.metrics.registry.metrics();
    },
  );
}

function breakerStatus(breaker: NonNullable<Platform["database"]["breaker"]>): BreakerStatusView {
  const open = breaker.state === "open";
  return {
    state: breaker.state,
    openedAt: breaker.openedAt?.toISOString() ?? null,
    retryAfterSeconds: open ? breaker.retryAfterSeconds() : null,
  };
}

function copyStatus(copy: ReturnType<Platform["localCopies"]["list"]>[number]): LocalCopyStatusView {
  const age = copy.ageSeconds();
  return {
    name: copy.name,
    syncedAt: copy.syncedAt?.toISOString() ?? null,
    ageSeconds: age === null ? null : Math.round(age * 10) / 10,
    entries: copy.rows.length,
  };
}

async function vectorFeature(platform: Platform): Promise<VectorFeatureView> {
  const models = {
    passage: platform.embedders.forClass("passage").model,
    short: platform.embedders.forClass("short").model,
  };
  try {
    const support = await platform.vectors.support();
    return support.available ? { available: true, models } : { available: false, reason: support.reason, models };
  } catch (error) {
    // The database is down: its own check says so; vectors are unknown until it answers.
    return { available: false, reason: `not known: ${(error as Error).message}`, models };
  }
}

async function check(driver: string, ping: () => Promise<number>): Promise<DependencyStateView> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const latency = await Promise.race([
      ping(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
      }),
    ]);
    return { driver, status: "up", latencyMs: Math.round(latency * 100) / 100 };
  } catch (error) {
    return { driver, status: "down", latencyMs: null, error: (error as Error).message };
  } finally {
    clearTimeout(timer);
  }
}
