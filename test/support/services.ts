/**
 * Where the integration suite finds the real servers. The defaults are the
 * servers every development and CI machine runs; override them to point the
 * suite elsewhere.
 */
export const services = {
  postgresUrl: process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test",
  redisUrl: process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379",
};
