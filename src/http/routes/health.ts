import { Type } from "typebox";
import type { Platform } from "../../runtime/platform.ts";
import type { App } from "../app.ts";

const CHECK_TIMEOUT_MS = 2_000;

const DependencyState = Type.Object({
  driver: Type.String(),
  status: Type.Union([Type.Literal("up"), Type.Literal("down")]),
  latencyMs: Type.Union([Type.Number(), Type.Null()]),
  error: Type.Optional(Type.String()),
});

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
        summary: "Liveness",
        response: { 200: Type.Object({ status: Type.Literal("ok"), uptimeSeconds: Type.Number() }) },
      },
    },
    async () => ({ status: "ok" as const, uptimeSeconds: Math.round((Date.now() - started) / 1000) }),
  );

  app.get(
    "/ready",
    {
      schema: {
        tags: ["operations"],
        summary: "Readiness, with each dependency's state and latency",
        response: {
          "2xx": Type.Object({
            status: Type.String(),
            profile: Type.String(),
            dependencies: Type.Record(Type.String(), DependencyState),
          }),
          503: Type.Object({
            status: Type.String(),
            profile: Type.String(),
            dependencies: Type.Record(Type.String(), DependencyState),
          }),
        },
      },
    },
    async (_request, reply) => {
      const [database, kv, blobs] = await Promise.all([
        check(platform.database.driver, () => platform.database.ping()),
        check(platform.kv.driver, () => platform.kv.ping()),
        check(platform.blobs.driver, () => platform.blobs.ping()),
      ]);
      const dependencies = { database, kv, blobs };
      const ready = Object.values(dependencies).every((d) => d.status === "up");
      if (!ready) reply.status(503).header("retry-after", "5");
      return { status: ready ? "ready" : "unavailable", profile: platform.config.profile, dependencies };
    },
  );

  app.get("/metrics", { schema: { tags: ["operations"], summary: "Prometheus metrics" } }, async (_request, reply) => {
    reply.header("content-type", platform.metrics.registry.contentType);
    return platform.metrics.registry.metrics();
  });
}

async function check(driver: string, ping: () => Promise<number>) {
  let timer: NodeJS.Timeout | undefined;
  try {
    const latency = await Promise.race([
      ping(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
      }),
    ]);
    return { driver, status: "up" as const, latencyMs: Math.round(latency * 100) / 100 };
  } catch (error) {
    return { driver, status: "down" as const, latencyMs: null, error: (error as Error).message };
  } finally {
    clearTimeout(timer);
  }
}
