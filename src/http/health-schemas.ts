import { type Static, Type } from "typebox";
import { PROFILES } from "../config/config.ts";
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
      dependencies: Type.Object({ database: DependencyState, kv: DependencyState, blobs: DependencyState }),
      features: Type.Object({ vectors: VectorFeature }),
    },
    { description },
  );
