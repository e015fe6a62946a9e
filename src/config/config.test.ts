import assert from "node:assert/strict";
import path from "node:path";
import { describe, it } from "node:test";
import { ConfigError, loadConfig } from "./config.ts";

function problemsOf(env: Record<string, string>) {
  try {
    loadConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.problems;
  }
  assert.fail("expected a ConfigError");
}

describe("config", () => {
  it("defaults to the embedded profile on port 8080 with ./data", () => {
    const config = loadConfig({});
    assert.equal(config.profile, "embedded");
    assert.equal(config.http.port, 8080);
    assert.equal(config.http.host, "localhost");
    assert.equal(config.http.publicUrl, "http://localhost:8080");
    assert.equal(config.dataDir, path.resolve("data"));
    assert.deepEqual(config.database, {
      driver: "pglite",
      dataDir: path.resolve("data", "pg"),
      statementTimeoutMs: 10_000,
    });
    assert.equal(config.kv.driver, "memory");
    assert.deepEqual(config.blobs, { driver: "fs", root: path.resolve("data", "blobs") });
  });

  it("is frozen all the way down", () => {
    const config = loadConfig({});
    assert.ok(Object.isFrozen(config));
    assert.ok(Object.isFrozen(config.http));
    assert.throws(() => {
      (config.http as { port: number }).port = 1;
    }, TypeError);
  });

  it("selects the server drivers from their variables", () => {
    const config = loadConfig({
      DATABASE_URL: "postgres://u:p@db:5432/strata",
      DATABASE_READ_URL: "postgres://u:p@replica:5432/strata",
      REDIS_URL: "redis://cache:6379",
      S3_BUCKET: "strata-blobs",
      S3_ENDPOINT: "http://minio:9000",
      S3_ACCESS_KEY_ID: "k",
      S3_SECRET_ACCESS_KEY: "s",
      STRATA_SIGNING_SECRET: "x".repeat(32),
    });
    assert.equal(config.profile, "server");
    assert.equal(config.database.driver, "postgres");
    assert.equal(
      config.database.driver === "postgres" && config.database.readUrl,
      "postgres://u:p@replica:5432/strata",
    );
    assert.equal(config.kv.driver, "redis");
    assert.equal(config.blobs.driver === "s3" && config.blobs.forcePathStyle, true);
    assert.equal(
      loadConfig({ DATABASE_URL: "postgres://db/x", STRATA_SIGNING_SECRET: "x".repeat(32) }).profile,
      "mixed",
    );
  });

  it("sizes the database pool as seed 004 does, with its circuit breaker's bounds", () => {
    const config = loadConfig({ DATABASE_URL: "postgres://db/x", STRATA_SIGNING_SECRET: "x".repeat(32) });
    assert.equal(config.database.driver, "postgres");
    if (config.database.driver !== "postgres") return;
    assert.deepEqual(
      {
        min: config.database.poolMin,
        max: config.database.poolMax,
        idle: config.database.idleTimeoutMs,
        statement: config.database.statementTimeoutMs,
        failures: config.database.breakerFailures,
        halfOpen: config.database.breakerHalfOpenMs,
      },
      { min: 2, max: 10, idle: 300_000, statement: 10_000, failures: 3, halfOpen: 30_000 },
    );
    const small = loadConfig({
      DATABASE_URL: "postgres://db/x",
      STRATA_SIGNING_SECRET: "x".repeat(32),
      DATABASE_POOL_MAX: "1",
    });
    assert.equal(
      small.database.driver === "postgres" && small.database.poolMin,
      1,
      "the minimum never exceeds the maximum",
    );
  });

  it("treats empty variables as unset", () => {
    assert.equal(loadConfig({ PORT: "", DATABASE_URL: "" }).profile, "embedded");
  });

  it("reads CORS_ORIGINS as a list of origins, written as browsers send them", () => {
    assert.deepEqual(loadConfig({}).http.corsOrigins, [], "closed unless configured");
    assert.deepEqual(
      loadConfig({
        CORS_ORIGINS:
          "https://app.example.com, https://Admin.Example.com:443/,http://localhost:3000,https://app.example.com",
      }).http.corsOrigins,
      ["https://app.example.com", "https://admin.example.com", "http://localhost:3000"],
    );
  });

  it("names CORS_ORIGINS and the entry at fault when one is not an origin", () => {
    for (const bad of [
      "https://app.example.com/path",
      "*",
      "app.example.com",
      "ftp://files.example.com",
      "https://*.example.com",
      "https://a.example.com?x=1",
    ]) {
      const problems = problemsOf({ CORS_ORIGINS: `https://ok.example.com,${bad}` });
      assert.equal(problems.length, 1, bad);
      assert.equal(problems[0]?.variable, "CORS_ORIGINS");
      assert.ok(problems[0]?.reason.includes(`"${bad}"`), problems[0]?.reason);
      assert.match(problems[0]?.reason ?? "", /not an origin/);
    }
  });

  it("takes the writing maintenance's schedule as a cron expression, and names it when it does not parse", () => {
    assert.equal(loadConfig({}).writing.maintenanceCron, "* * * * *");
    assert.equal(loadConfig({ WRITING_MAINTENANCE_CRON: "*/5 * * * * *" }).writing.maintenanceCron, "*/5 * * * * *");
    const problems = problemsOf({ WRITING_MAINTENANCE_CRON: "every day at noon" });
    assert.equal(problems[0]?.variable, "WRITING_MAINTENANCE_CRON");
    assert.match(problems[0]?.reason ?? "", /cron expression/);
  });

  it("reads the embeddings endpoint: none by default (the offline embedder), its model, and the chat key", () => {
    assert.equal(loadConfig({}).embeddings, null);
    assert.deepEqual(
      loadConfig({ EMBEDDING_BASE_URL: "http://localhost:11434/v1", AI_API_KEY: "sk-chat" }).embeddings,
      {
        baseUrl: "http://localhost:11434/v1",
        apiKey: "sk-chat",
        model: "text-embedding-3-small",
        timeoutMs: 60_000,
      },
    );
    const own = loadConfig({
      EMBEDDING_BASE_URL: "https://api.openai.com/v1",
      EMBEDDING_API_KEY: "sk-embed",
      EMBEDDING_MODEL: "nomic-embed-text",
      AI_API_KEY: "sk-chat",
    }).embeddings;
    assert.equal(own?.apiKey, "sk-embed");
    assert.equal(own?.model, "nomic-embed-text");
    assert.deepEqual(
      problemsOf({ EMBEDDING_MODEL: "nomic-embed-text" }).map((p) => [p.variable, p.reason]),
      [["EMBEDDING_MODEL", "needs EMBEDDING_BASE_URL to be set as well"]],
    );
    assert.equal(problemsOf({ EMBEDDING_BASE_URL: "localhost:11434" })[0]?.variable, "EMBEDDING_BASE_URL");
  });

  it("reads local embedding models: the seed's two by default, under one directory, never with an endpoint", () => {
    assert.equal(loadConfig({}).localEmbeddings, null);
    assert.deepEqual(loadConfig({ EMBEDDING_MODEL_DIR: "/srv/models" }).localEmbeddings, {
      modelDir: "/srv/models",
      passageModel: "all-mpnet-base-v2",
      shortModel: "all-MiniLM-L6-v2",
    });
    assert.equal(
      loadConfig({ EMBEDDING_MODEL_DIR: "/srv/models", EMBEDDING_SHORT_MODEL: "bge-small-en-v1.5" }).localEmbeddings
        ?.shortModel,
      "bge-small-en-v1.5",
    );
    assert.deepEqual(
      problemsOf({ EMBEDDING_MODEL_DIR: "/srv/models", EMBEDDING_BASE_URL: "http://localhost:11434/v1" }).map(
        (p) => p.variable,
      ),
      ["EMBEDDING_MODEL_DIR"],
    );
    assert.deepEqual(
      problemsOf({ EMBEDDING_PASSAGE_MODEL: "all-mpnet-base-v2" }).map((p) => [p.variable, p.reason]),
      [["EMBEDDING_PASSAGE_MODEL", "needs EMBEDDING_MODEL_DIR to be set as well"]],
    );
    // A model's name is one directory: it never reaches outside the model directory.
    assert.equal(
      problemsOf({ EMBEDDING_MODEL_DIR: "/srv/models", EMBEDDING_PASSAGE_MODEL: "../etc" })[0]?.variable,
      "EMBEDDING_PASSAGE_MODEL",
    );
  });

  it("reads the AI provider's limits: defaults, and per model limits that replace them", () => {
    const base = { AI_BASE_URL: "https://api.openai.com/v1" };
    assert.deepEqual(loadConfig(base).ai?.limits, { tokensPerMinute: null, requestsPerMinute: null, models: {} });
    const limits = loadConfig({
      ...base,
      AI_TOKENS_PER_MINUTE: "90000",
      AI_REQUESTS_PER_MINUTE: "300",
      AI_MODEL_LIMITS:
        "gpt-4o-mini=200000/500, gpt-4 = 40000/200,meta-llama/Llama-3.1-8B-Instruct=/60,llama3:8b=5000/,local=/",
    }).ai?.limits;
    assert.deepEqual(limits, {
      tokensPerMinute: 90_000,
      requestsPerMinute: 300,
      models: {
        "gpt-4o-mini": { tokensPerMinute: 200_000, requestsPerMinute: 500 },
        "gpt-4": { tokensPerMinute: 40_000, requestsPerMinute: 200 },
        "meta-llama/Llama-3.1-8B-Instruct": { tokensPerMinute: null, requestsPerMinute: 60 },
        "llama3:8b": { tokensPerMinute: 5_000, requestsPerMinute: null },
        local: { tokensPerMinute: null, requestsPerMinute: null },
      },
    });
  });

  it("names AI_MODEL_LIMITS and the entry at fault when one does not read", () => {
    const base = { AI_BASE_URL: "http://localhost:11434/v1" };
    for (const bad of [
      "gpt-4",
      "gpt-4=40000",
      "gpt-4=forty/200",
      "=100/10",
      "gpt-4=0/10",
      "gpt-4=1.5/10",
      "gpt-4=-1/2",
    ]) {
      const problems = problemsOf({ ...base, AI_MODEL_LIMITS: `gpt-4o-mini=200000/500,${bad}` });
      assert.equal(problems.length, 1, bad);
      assert.equal(problems[0]?.variable, "AI_MODEL_LIMITS");
      assert.ok(problems[0]?.reason.includes(`"${bad}"`), problems[0]?.reason);
      assert.match(problems[0]?.reason ?? "", /model=tokens\/requests/);
    }
    assert.match(
      problemsOf({ ...base, AI_MODEL_LIMITS: "a=1/1,b=2/2,a=3/3" })[0]?.reason ?? "",
      /names the model "a" more than once/,
    );
    assert.equal(problemsOf({ ...base, AI_TOKENS_PER_MINUTE: "0" })[0]?.variable, "AI_TOKENS_PER_MINUTE");
    assert.deepEqual(problemsOf({ AI_REQUESTS_PER_MINUTE: "100" }), [
      { variable: "AI_REQUESTS_PER_MINUTE", reason: "needs AI_BASE_URL to be set as well" },
    ]);
  });

  it("names the variable and the reason for each bad value", () => {
    assert.deepEqual(
      problemsOf({ PORT: "eighty", LOG_LEVEL: "loud", DATABASE_URL: "mysql://x" })
        .map((p) => p.variable)
        .sort(),
      ["DATABASE_URL", "LOG_LEVEL", "PORT"],
    );
    const [port] = problemsOf({ PORT: "70000" });
    assert.equal(port?.variable, "PORT");
    assert.match(port?.reason ?? "", /65535/);
    assert.equal(problemsOf({ DATABASE_READ_URL: "postgres://r/x" })[0]?.variable, "DATABASE_READ_URL");
    assert.equal(problemsOf({ TRUST_PROXY: "sometimes" })[0]?.variable, "TRUST_PROXY");
    assert.equal(problemsOf({ S3_ACCESS_KEY_ID: "k", S3_BUCKET: "bucket" })[0]?.variable, "S3_SECRET_ACCESS_KEY");
    assert.equal(problemsOf({ STRATA_SIGNING_SECRET: "short" })[0]?.variable, "STRATA_SIGNING_SECRET");
    assert.deepEqual(problemsOf({ DATABASE_URL: "postgres://db/x" }), [
      { variable: "STRATA_SIGNING_SECRET", reason: "is required when DATABASE_URL is set" },
    ]);
    assert.match(new ConfigError([{ variable: "PORT", reason: "is bad" }]).message, /PORT is bad/);
  });
});
