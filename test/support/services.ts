/**
 * Where the integration suite finds the real servers. The defaults are the
 * servers every development and CI machine runs; override them to point the
 * suite elsewhere.
 */
export const services = {
  postgresUrl: process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test",
  redisUrl: process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379",
};

/** Server deployments must configure the signing secret; tests use this one. */
export const TEST_SIGNING_SECRET = "test-signing-secret-for-strata-integration-suites";
