import { type Static, Type } from "typebox";
import { PROFILES } from "../config/config.ts";
import { BREAKER_STATES } from "../platform/database/database-breaker.ts";
import { Nullable, StringEnum } from "../platform/schemas.ts";

/**
 * What /health and /ready answer (routes/health.ts), declared apart from
 * the route as every resource's schemas are: liveness, and readiness with
 * each dependency's state.
 */

export const Liveness = Type.Object(
  { status: Type.Literal("ok"), uptimeSeconds: Type.Number() },
  { description: "The process is running." },
);
export type LivenessView = Static<typeof Liveness>;

export const DependencyState = Type.Object({
  driver: Type.String(),
  status: StringEnum(["up", "down"]),
  latencyMs: Nullable(Type.Number()),
  error: Type.Optional(Type.String()),
});
export type DependencyStateView = Static<typeof DependencyState>;

/** The circuit breaker around the database server (absent on the embedded database). */
export const BreakerStatus = Type.Object({
  state: StringEnum(BREAKER_STATES, {
    description: "`open`: statements fail at once (503) until the probe; `half_open`: one probe is trying.",
  }),
  openedAt: Nullable(Type.String(), { description: "When it last opened; null while closed." }),
  retryAfterSeconds: Nullable(Type.Integer(), { description: "Until the probe, while open." }),
});

/**
 * A local read-only copy a module keeps for when the database is down
 * (the knowledge module's): how old it is, and whether reads are being
 * served from it now.
 */
export const LocalCopyStatus = Type.Object({
  name: Type.String(),
  syncedAt: Nullable(Type.String(), {
    description: "When the copy last matched the database; null before the first sync.",
  }),
  ageSeconds: Nullable(Type.Number()),
  entries: Type.Integer(),
});

/**
 * Whether vector features (similar entries, the vector signal of hybrid
 * search) can run: a Postgres server without pgvector serves everything
 * else, so this reports rather than decides readiness. `models` names the
 * configured embedding models for passages and short texts.
 */
export const VectorFeature = Type.Object({
  available: Type.Boolean(),
  reason: Type.Optional(Type.String()),
  models: Type.Object({ passage: Type.String(), short: Type.String() }),
});
export type VectorFeatureView = Static<typeof VectorFeature>;

/** The readiness report, ready (200) or not (503): the same shape, its status fixed for each answer. */
export const Readiness = <const S extends "ready" | "unavailable">(status: S, description: string) =>
  Type.Object(
    {
      status: Type.Literal(status),
      profile: StringEnum(PROFILES),
      dependencies: Type.Object({
        database: Type.Object({ ...DependencyState.properties, breaker: Type.Optional(BreakerStatus) }),
        kv: DependencyState,
        blobs: DependencyState,
      }),
      features: Type.Object({ vectors: VectorFeature, localCopies: Type.Array(LocalCopyStatus) }),
    },
    { description },
  );
export type BreakerStatusView = Static<typeof BreakerStatus>;
export type LocalCopyStatusView = Static<typeof LocalCopyStatus>;
